"""The cache layer's one entry point: where each kind of entry lives, or nothing at all."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shouldi.cache.paths import cache_root

if TYPE_CHECKING:
    from shouldi.cache.answers import AnswerCache
    from shouldi.cache.artifacts import ArtifactCache
    from shouldi.cache.scans import ScanCache
    from shouldi.cache.scores import ScoreCache

__all__ = ["Cache"]


class Cache:
    """Every cache of a run under one root (default: the user cache dir); ``enabled=False``
    (``--no-cache``) gives none: each accessor then returns ``None``."""

    def __init__(self, root: Path | None = None, *, enabled: bool = True) -> None:
        self.root = root if root is not None else cache_root()
        self.enabled = enabled

    def __repr__(self) -> str:
        return f"Cache({str(self.root)!r}, enabled={self.enabled})"

    @property
    def artifacts(self) -> ArtifactCache | None:
        from shouldi.cache.artifacts import ArtifactCache

        return ArtifactCache(self.root / "artifacts") if self.enabled else None

    @property
    def scans(self) -> ScanCache | None:
        from shouldi.cache.scans import ScanCache

        return ScanCache(self.root / "results") if self.enabled else None

    def scores(self, model: Path) -> ScoreCache | None:
        """Scores of the model file ``model`` (None when disabled or the model is unreadable)."""
        from shouldi.cache.scores import ScoreCache

        if not self.enabled:
            return None
        try:
            return ScoreCache(self.root / "risk", model)
        except OSError:
            return None

    def answers(self, settings: Mapping[str, Any], max_age: float) -> AnswerCache | None:
        from shouldi.cache.answers import AnswerCache

        if not self.enabled or max_age <= 0:
            return None
        return AnswerCache(self.root / "answers", settings, max_age)
