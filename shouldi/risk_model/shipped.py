"""Where the shipped model lives (cheap: imports neither numpy nor scikit-learn)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["shipped_model_path"]


def shipped_model_path() -> Path | None:
    """The model shipped inside the package (trained on ``datasets/``), if present."""
    path = Path(str(resources.files("shouldi") / "data" / "model.zip"))
    return path if path.is_file() else None
