"""Risk scores by model and features: a release scored before is scored without scikit-learn.

Loading the model means importing scikit-learn and scipy (~3 s here), which would dominate a
re-check of already scanned releases. A score depends only on the model file and the
release's model features, so both make the key: a new model, or any changed feature (say, a
release a day older), is a miss. This module imports neither numpy nor scikit-learn.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shouldi.cache.codec import from_json, to_json
from shouldi.cache.entries import EntryStore, digest
from shouldi.verdict.report import RiskScore

__all__ = ["ScoreCache"]


class ScoreCache:
    """Scores of one model file (by its sha256) under ``root``."""

    def __init__(self, root: Path, model: Path) -> None:
        self.model_digest = hashlib.sha256(model.read_bytes()).hexdigest()
        self.entries = EntryStore(root / self.model_digest[:16], "risk-score")

    def _about(self, features: Mapping[str, Any]) -> dict[str, Any]:
        return {"model": self.model_digest, "features": dict(features)}

    def path_for(self, features: Mapping[str, Any]) -> Path:
        """Where the entry for ``features`` lives (whether or not it is there)."""
        return self.entries.path_for(digest(self._about(features)))

    def get(self, features: Mapping[str, Any]) -> RiskScore | None:
        about = self._about(features)
        entry = self.entries.get(digest(about), about)
        if entry is None:
            return None
        try:
            return from_json(RiskScore, entry.body)
        except ValueError:
            return None

    def put(self, features: Mapping[str, Any], score: RiskScore) -> bool:
        about = self._about(features)
        return self.entries.put(digest(about), about, to_json(score))
