"""A model manifest in readable form (``shouldi model info``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["manifest_text"]


def _num(value: object) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, (int, float)) else str(value)


def _metrics(metrics: Mapping[str, Any]) -> list[str]:
    rows = [("model", metrics), *sorted(metrics.get("baselines", {}).items())]
    out = [f"    {'':12} {'ROC AUC':>7} {'PR AUC':>7} {'precision':>9} {'recall':>7}"]
    for name, m in rows:
        out.append(f"    {name:12} {_num(m.get('roc_auc')):>7} {_num(m.get('pr_auc')):>7} "
                   f"{_num(m.get('precision')):>9} {_num(m.get('recall')):>7}")
    return out


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """Every field of a verified manifest, one concern per line."""
    versions = manifest.get("versions", {})
    estimator = manifest.get("estimator", {})
    data = manifest.get("training_data", {})
    metrics = manifest.get("metrics", {})
    params = ", ".join(f"{k}={v!r}" for k, v in (estimator.get("params") or {}).items()) or "defaults"
    calibration = estimator.get("calibration", {})
    lines = [
        f"shouldi risk model (format {manifest.get('format_version')}), created {manifest.get('created')}",
        "  versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()),
        f"  estimator: {estimator.get('name')} ({params})",
        f"  pipeline: {' -> '.join(estimator.get('pipeline', []))}; calibration "
        f"{calibration.get('method')} over {calibration.get('folds')} folds",
        f"  label: column {manifest.get('label', {}).get('column')!r}: "
        f"{manifest.get('label', {}).get('definition')}",
        f"  training data: {data.get('file')} sha256 {data.get('sha256')}",
        f"    {data.get('rows')} releases, {data.get('positives')} positive, {data.get('projects')} projects",
        f"  threshold: {manifest.get('threshold')} (flagged at score >= "
        f"{100 * float(manifest.get('threshold', 0)):g})",
        f"  metrics: {metrics.get('method')} ({metrics.get('folds')} folds, grouped by project)",
        *_metrics(metrics),
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
