"""Errors of the risk model layer: training, evaluation, prediction and the model archive.

A model file and a features file are things the user names, so what is wrong with them is
the user's to fix (exit 2); a model archive that fails a safety check is *refused*, never
half-loaded::

    ShouldiError                      (shouldi.errors)
    └── ModelError                    exit 3: training, evaluation or prediction failed
        ├── ModelArchiveError         exit 2: the model file is missing, unreadable, or not a model
        │   └── UnsafeModelError      exit 2: refused: tampered or extra/missing members, a pickle,
        │                             untrusted types, an unknown format version, a hostile archive
        └── TrainingDataError         exit 2: a features file that cannot train or evaluate a model
"""

from __future__ import annotations

from shouldi.errors import EXIT_BAD_INPUT, ShouldiError

__all__ = ["ModelArchiveError", "ModelError", "TrainingDataError", "UnsafeModelError"]


class ModelError(ShouldiError):
    """Base of this layer's errors. ``str(err)`` is one line."""


class ModelArchiveError(ModelError):
    """The model file cannot be used: missing, unreadable, or not a shouldi model."""

    exit_code = EXIT_BAD_INPUT


class UnsafeModelError(ModelArchiveError):
    """The model archive failed a safety or integrity check and was refused."""


class TrainingDataError(ModelError):
    """A features file cannot train or evaluate a model (no label, one class, bad values)."""

    exit_code = EXIT_BAD_INPUT
