"""Whether a model's measured skill lets its score be shown: read from the manifest alone.

A model is **skilled** when its ROC AUC beats the best single baseline's by at least
:data:`SKILL_MARGIN` (0.05) on the ``time+project`` split (the bar of issue 14) *and*, when the
manifest has that report, on ``advisory-projects`` too (see :mod:`shouldi.risk_model.assess`
for why). This module imports neither numpy nor scikit-learn, so a caller can learn that the
shipped model shows no score without loading it (:func:`shipped_skill`): the shipped archive is
read as a zip, its manifest checked against nothing but itself (it ships inside shouldi; a model
that is *loaded* goes through the full verification of :mod:`shouldi.risk_model.archive`).
"""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["POOL", "PRIMARY", "SKILL_MARGIN", "Skill", "shipped_skill", "skill"]

SKILL_MARGIN = 0.05
PRIMARY = "time+project"
POOL = "advisory-projects"


@dataclass(frozen=True)
class Skill:
    skilled: bool
    reason: str  # one line: why a score is (not) shown


def _margin(split: object) -> tuple[float, str] | None:
    """(model ROC AUC minus the best baseline's, how to say it) of one stored split report."""
    if not isinstance(split, dict):
        return None
    model_auc = split.get("model", {}).get("roc_auc")
    best = split.get("best_baseline")
    best_auc = split.get("baselines", {}).get(best, {}).get("roc_auc") if best else None
    if not isinstance(model_auc, (int, float)) or not isinstance(best_auc, (int, float)):
        return None
    margin = float(model_auc) - float(best_auc)
    return margin, f"ROC AUC {model_auc:.3f} vs {best} {best_auc:.3f}, {margin:+.3f}"


def skill(manifest: Mapping[str, Any]) -> Skill:
    """Whether the manifest's measured skill allows showing (and gating on) a score."""
    metrics = manifest.get("metrics")
    splits = metrics.get("time_split") if isinstance(metrics, dict) else None
    if not isinstance(splits, dict) or not isinstance(splits.get(PRIMARY), dict):
        return Skill(False, "no score: this model has no time-split evaluation (an older model format)")
    main = _margin(splits[PRIMARY])
    if main is None:
        return Skill(False, "no score: the time-split evaluation has no ROC AUC to compare")
    cutoff = splits[PRIMARY].get("cutoff")
    where = f"time split after {cutoff}, new projects: {main[1]}"
    if main[0] < SKILL_MARGIN:
        return Skill(False, f"no score: the model does not beat its best baseline by {SKILL_MARGIN} "
                            f"ROC AUC ({where})")
    if POOL in splits:
        pool = _margin(splits[POOL])
        if pool is None or pool[0] < SKILL_MARGIN:
            said = pool[1] if pool else "not measurable"
            return Skill(False, f"no score: it beats its best baseline on new projects ({main[1]}) "
                                f"but not among projects with advisories ({said}): it tells "
                                "projects apart, not which release will get an advisory")
        where += f"; among projects with advisories: {pool[1]}"
    return Skill(True, f"skilled: {where} (bar +{SKILL_MARGIN})")


@functools.lru_cache(maxsize=1)
def shipped_skill() -> Skill | None:
    """The shipped model's :func:`skill` from its manifest, without scikit-learn (``None``: no
    model shipped). A manifest that cannot be read is "not skilled", with the reason."""
    path = Path(str(resources.files("shouldi") / "data" / "model.zip"))
    if not path.is_file():
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read("manifest.json"))
    except (OSError, KeyError, ValueError, RecursionError, zipfile.BadZipFile) as e:
        return Skill(False, f"no score: the shipped model's manifest cannot be read ({type(e).__name__})")
    return skill(manifest if isinstance(manifest, dict) else {})
