"""Importing this package leaves sentinelpkg.import.ran in $SHOULDI_SENTINEL_DIR."""

import os
import pathlib

_where = os.environ.get("SHOULDI_SENTINEL_DIR")
if _where:
    pathlib.Path(_where, "sentinelpkg.import.ran").write_text("sentinelpkg was imported\n")
