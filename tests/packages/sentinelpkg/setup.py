"""If this runs, it leaves sentinelpkg.setup.py.ran in $SHOULDI_SENTINEL_DIR."""

import os
import pathlib

_where = os.environ.get("SHOULDI_SENTINEL_DIR")
if _where:
    pathlib.Path(_where, "sentinelpkg.setup.py.ran").write_text("setup.py was executed\n")

from setuptools import setup  # noqa: E402

setup(name="sentinelpkg", version="0.1.0", packages=["sentinelpkg"])
