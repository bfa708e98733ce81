"""A model manifest in readable form (``shouldi model info``): the question first, then whether
its scores are shown (and why not), then the time-split metrics and everything else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["assessment_text", "manifest_text"]


def _num(value: object) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _fmt(value: object) -> str:
    return "   n/a" if not isinstance(value, (int, float)) else f"{value:6.3f}"


def _ci(interval: object) -> str:
    if not isinstance(interval, (list, tuple)) or len(interval) != 2:
        return " " * 15
    return f"[{interval[0]:.3f}-{interval[1]:.3f}]"


def _split_text(split: dict[str, Any]) -> list[str]:
    titles = {"time+project": "new projects only", "time": "all projects",
              "advisory-projects": "new projects, only those with advisories", "holdout": "held out"}
    title = titles.get(split["split"], split["split"])
    lines = [f"time split at {split['cutoff']} ({title}): trained on {split['train_rows']} releases, "
             f"tested on {split['test_rows']} later uploads ({split['test_positives']} positive) "
             f"of {split['test_projects']} projects",
             f"  {'':16} {'ROC AUC':>7} {'95% CI':15} {'PR AUC':>7} {'95% CI':15} {'Brier':>6} "
             f"{'pairs right':>11}"]
    rows = [("model", split["model"]), *split["baselines"].items()]
    for name, m in rows:
        ci = m.get("intervals", {})
        pairs = "n/a" if m.get("pairwise") is None else f"{m['pairwise']:.3f} ({m['pairs']})"
        lines.append(f"  {name:16} {_fmt(m.get('roc_auc')):>7} {_ci(ci.get('roc_auc'))} "
                     f"{_fmt(m.get('pr_auc')):>7} {_ci(ci.get('pr_auc'))} {_fmt(m.get('brier')):>6} "
                     f"{pairs:>11}")
    margin = split.get("margin")
    shown = "n/a" if margin is None else f"{margin:+.3f} {_ci(split.get('margin_interval'))}"
    lines.append(f"  best baseline: {split['best_baseline']}; model minus it: {shown}")
    return lines


def assessment_text(metrics: dict[str, Any]) -> str:
    lines: list[str] = []
    for split in (metrics.get("time_split") or {}).values():
        lines += _split_text(split)
    lines += [f"note: {n}" for n in metrics.get("notes", [])]
    skill = metrics.get("skill") or {}
    if skill:
        lines.append(str(skill.get("reason")))
    return "\n".join(lines)


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """Every field of a verified manifest, one concern per line."""
    versions = manifest.get("versions", {})
    estimator = manifest.get("estimator", {})
    data = manifest.get("training_data", {})
    metrics = manifest.get("metrics", {})
    params = ", ".join(f"{k}={v!r}" for k, v in (estimator.get("params") or {}).items()) or "defaults"
    calibration = estimator.get("calibration", {})
    from shouldi.risk_model.skill import skill

    judged = skill(manifest)
    lines = [
        f"shouldi risk model (format {manifest.get('format_version')}), created {manifest.get('created')}",
        f"  question: {manifest.get('question', 'not stated (an older model)')}",
        f"  shown by install/ci: {'yes' if judged.skilled else 'no'}: {judged.reason}",
        "  versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"  estimator: {estimator.get('name')} ({params})",
        f"  pipeline: {' -> '.join(estimator.get('pipeline', []))}; calibration "
        f"{calibration.get('method')} over {calibration.get('folds')} folds",
        f"  label: column {manifest.get('label', {}).get('column')!r}: "
        f"{manifest.get('label', {}).get('definition')}",
        f"  training data: {data.get('file')} sha256 {data.get('sha256')}",
        f"    {data.get('rows')} releases, {data.get('positives')} positive, {data.get('projects')} projects",
        f"  review priority high from score {100 * float(manifest.get('threshold', 0)):.1f} "
        "(the training releases' top 10%)",
        "  metrics:",
        *("    " + line for line in assessment_text(dict(metrics)).splitlines()),
        f"  explanation: {manifest.get('explanation')}",
        "  members:",
        *(f"    {name}  sha256 {m.get('sha256')}  {m.get('size')} bytes"
          for name, m in manifest.get("members", {}).items()),
        f"  features ({len(manifest.get('features', []))}, in input order): "
        "training min .. max, median, unknown share",
    ]
    ranges = {r["name"]: r for r in manifest.get("training_ranges", [])}
    for feature in manifest.get("features", []):
        r = ranges.get(feature["name"], {})
        lines.append(f"    {feature['position']:3} {feature['name']:38} {feature['type']:5} "
                     f"{_num(r.get('min'))} .. {_num(r.get('max'))}, median {_num(r.get('q50'))}, "
                     f"unknown {100 * float(r.get('unknown_share', 0)):.0f}%")
    return "\n".join(lines)
