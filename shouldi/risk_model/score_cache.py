"""Risk scores by model and features: a release scored before is scored without scikit-learn.

Loading the model means importing scikit-learn and scipy (~3 s here), which would dominate a
re-check of already scanned releases. A score depends only on the model file and the
release's model features (:data:`~shouldi.record.MODEL_FEATURES`), so both make the key: a
new model, or any changed feature (say, a release a day older), is a miss.

Layout: ``<root>/<model sha256[:16]>/<key[:2]>/<key>.json``, written atomically; an
unreadable or malformed entry is a miss. This module imports neither numpy nor scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from shouldi.paths import store_json
from shouldi.verdict import RiskScore

__all__ = ["ScoreCache", "shipped_model_path"]

_FORMAT = 1


def shipped_model_path() -> Path | None:
    """The model shipped inside the package (trained on ``datasets/``), if present."""
    path = Path(str(resources.files("shouldi") / "data" / "model.zip"))
    return path if path.is_file() else None


class ScoreCache:
    """Scores of one model file (by its sha256) under ``root``."""

    def __init__(self, root: Path, model: Path) -> None:
        self.model_digest = hashlib.sha256(model.read_bytes()).hexdigest()[:16]
        self.root = root / self.model_digest

    def path_for(self, features: Mapping[str, Any]) -> Path:
        body = json.dumps(dict(features), sort_keys=True, default=str)
        key = hashlib.sha256(body.encode()).hexdigest()
        return self.root / key[:2] / f"{key}.json"

    def get(self, features: Mapping[str, Any]) -> RiskScore | None:
        try:
            data = json.loads(self.path_for(features).read_bytes())
            if data.get("format") != _FORMAT or data.get("features") != dict(features):
                return None
            return RiskScore(float(data["score"]), tuple(map(str, data["top_features"])),
                             bool(data["reliable"]), tuple(map(str, data["drift"])))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, features: Mapping[str, Any], score: RiskScore) -> None:
        """Store ``score``; a cache that cannot be written costs speed, never the answer."""
        body = {"format": _FORMAT, "features": dict(features), "score": score.score,
                "top_features": list(score.top_features), "reliable": score.reliable,
                "drift": list(score.drift)}
        store_json(self.path_for(features), body)
