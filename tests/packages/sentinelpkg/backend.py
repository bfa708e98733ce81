"""An in-tree PEP 517 build backend. Importing it leaves sentinelpkg.backend.ran behind."""

import os
import pathlib

_where = os.environ.get("SHOULDI_SENTINEL_DIR")
if _where:
    pathlib.Path(_where, "sentinelpkg.backend.ran").write_text("backend.py was executed\n")


def build_sdist(sdist_directory, config_settings=None):
    raise NotImplementedError("sentinelpkg's backend builds nothing")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise NotImplementedError("sentinelpkg's backend builds nothing")
