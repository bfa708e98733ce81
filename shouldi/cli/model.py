"""``shouldi model``: train, evaluate, use and inspect the risk model.

The model file is a verified archive (:mod:`shouldi.risk_model.archive`); without ``--model``
the model shipped inside shouldi is used. Scores are 0-100 (the calibrated probability that a
known vulnerability affects the release), with the features that drove each score.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from shouldi.cli.options import RequirementSpecType, scan_options
from shouldi.errors import EXIT_BAD_INPUT, EXIT_ERROR, UsageError

if TYPE_CHECKING:
    from shouldi.risk_model import Evaluation, RiskModel
    from shouldi.settings import Settings

__all__ = ["model"]

_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                       show_default=True)
_FILE = click.Path(dir_okay=False, path_type=Path)


def _model_path(path: Path | None) -> Path:
    from shouldi.risk_model.predict import shipped_model_path

    found = path or shipped_model_path()
    if found is None:
        raise UsageError("no --model given and this shouldi ships no model")
    return found


def _load(path: Path | None) -> RiskModel:
    from shouldi.risk_model import load_model

    loaded = load_model(_model_path(path))
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}", err=True)
    return loaded


@click.group()
def model() -> None:
    """Train, evaluate, use and inspect the risk model."""


@model.command("train")
@click.argument("features", type=_FILE)
@click.option("--output", "-o", required=True, type=_FILE, help="Model file: .zip or .tar.gz.")
@click.option("--estimator", type=click.Choice(["logistic", "gradient-boosting", "random-forest"]),
              default="logistic", show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Estimator parameter (repeatable), e.g. --param C=0.5.")
@click.option("--cv", type=click.IntRange(min=2), default=5, show_default=True,
              help="Folds of the grouped cross-validation that sets the threshold and metrics.")
def train_command(features: Path, output: Path, estimator: str, params: tuple[str, ...],
                  cv: int) -> None:
    """Train on FEATURES (a `shouldi dataset build` output with a `label` column)."""
    from shouldi.risk_model import load_table, parse_params, save_model, train
    from shouldi.risk_model.archive import archive_kind

    archive_kind(output)  # refuse a bad extension before the work
    table = load_table(features)
    trained = train(table, estimator, parse_params(params), cv)
    save_model(trained, output)
    m = trained.manifest
    data = m["training_data"]
    click.echo(f"trained {estimator} on {data['rows']} releases ({data['positives']} positive) "
               f"from {data['projects']} projects; threshold {trained.threshold:g}")
    from shouldi.risk_model.evaluate import Evaluation, Metrics

    metrics = m["metrics"]
    evaluation = Evaluation("grouped-cv", Metrics(**{k: metrics[k] for k in _METRIC_KEYS}),
                            {k: Metrics(**v) for k, v in metrics["baselines"].items()}, cv,
                            metrics["projects"])
    click.echo(_evaluation_text(evaluation))
    click.echo(f"saved {output}")


_METRIC_KEYS = ("roc_auc", "pr_auc", "precision", "recall", "n", "positives", "threshold")


def _fmt(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.3f}"


def _evaluation_text(e: Evaluation) -> str:
    how = (f"grouped {e.folds}-fold cross-validation by project" if e.method == "grouped-cv"
           else "held-out scoring")
    lines = [f"{how}: {e.model.n} releases ({e.model.positives} positive), {e.projects} projects",
             f"{'':12} {'ROC AUC':>7} {'PR AUC':>7} {'precision':>9} {'recall':>7}"]
    for name, m in (("model", e.model), *e.baselines.items()):
        lines.append(f"{name:12} {_fmt(m.roc_auc):>7} {_fmt(m.pr_auc):>7} {_fmt(m.precision):>9} "
                     f"{_fmt(m.recall):>7}")
    lines.append(f"(model threshold {e.model.threshold:g}; dffml-rule: bandit.high_high > 5)")
    lines += [f"note: {n}" for n in e.notes]
    return "\n".join(lines)


@model.command("accuracy")
@click.option("--model", "model_path", type=_FILE, help="Model file (default: the shipped model).")
@click.argument("features", type=_FILE)
@_FORMAT
@click.option("--cv", type=click.IntRange(min=2), default=None,
              help="Grouped K-fold cross-validation on FEATURES (default when FEATURES is the "
                   "model's training data, with 5 folds); otherwise FEATURES is scored as held out.")
def accuracy(model_path: Path | None, features: Path, fmt: str, cv: int | None) -> None:
    """Measure the model on FEATURES beside the majority-class and DFFML-rule baselines."""
    from shouldi.risk_model import cross_validate, evaluate_holdout, load_table

    loaded = _load(model_path)
    table = load_table(features, loaded.features)
    if cv is not None or table.sha256 == loaded.training_sha256:
        config = loaded.manifest["estimator"]
        evaluation, _ = cross_validate(table, loaded.estimator, dict(config.get("params") or {}),
                                       cv or 5, threshold=loaded.threshold)
    else:
        evaluation = evaluate_holdout(loaded, table)
    if fmt == "json":
        click.echo(json.dumps(evaluation.to_json(), indent=2))
    else:
        click.echo(_evaluation_text(evaluation))


def _score_rows(loaded: RiskModel, names: Sequence[tuple[str, str | None]],
                records: Sequence[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    x = loaded.matrix(records)
    scores = loaded.score(x, top) if len(records) else []
    reasons = loaded.explain(x, top) if len(records) else []
    return [{"name": n, "version": v, "score": s.score,
             "flagged": s.score >= 100 * loaded.threshold, "reliable": s.reliable,
             "drift": list(s.drift),
             "top_features": [{"feature": c.feature, "value": c.value, "contribution": c.contribution}
                              for c in r]}
            for (n, v), s, r in zip(names, scores, reasons, strict=True)]


def _rows_text(rows: Sequence[dict[str, Any]], threshold: float) -> str:
    lines = []
    for row in rows:
        flag = "  [at/above threshold]" if row["flagged"] else ""
        lines.append(f"{row['score']:5.1f}  {row['name']} {row['version'] or ''}{flag}")
        for c in row["top_features"]:
            value = "unknown" if c["value"] is None else f"{c['value']:g}"
            lines.append(f"         {c['contribution']:+.2f}  {c['feature']} = {value}")
        if row["drift"]:
            lines.append(f"         less reliable: outside the training range: {', '.join(row['drift'])}")
    lines.append(f"(score = 100 x P(known vulnerability); threshold {100 * threshold:g})")
    return "\n".join(lines)


@model.command("predict")
@click.option("--model", "model_path", type=_FILE, help="Model file (default: the shipped model).")
@click.argument("specs", nargs=-1, type=RequirementSpecType())
@click.option("--dataset", type=_FILE, help="Score every record of this file instead of scanning.")
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True,
              help="Features shown per score.")
@_FORMAT
@scan_options
def predict(model_path: Path | None, specs: tuple[str, ...], dataset: Path | None, top: int,
            fmt: str, settings: Settings, quiet: bool) -> None:
    """Risk score (0-100) of each SPEC (scanned now) or of each record of --dataset."""
    if bool(specs) == bool(dataset):
        raise UsageError("give SPECs to scan or --dataset FILE (one of the two)")
    loaded = _load(model_path)
    failed: list[str] = []
    bad_input = False
    if dataset is not None:
        from shouldi.sources import open_source

        records = list(open_source(dataset).read())
        names: list[tuple[str, str | None]] = [(str(r.get("name")), str(r.get("version"))) for r in records]
    else:
        from shouldi.api import answer
        from shouldi.record import report_to_record

        records, names = [], []
        for outcome in answer(list(specs), settings):
            report = outcome.report
            if report.version is None:
                bad_input = bad_input or outcome.bad_input
                failed.append(f"{outcome.spec}: {report.reasons[0].message if report.reasons else '?'}")
                continue
            records.append(report_to_record(report, settings.index_url))
            names.append((report.name, report.version))
    rows = _score_rows(loaded, names, records, top)
    if fmt == "json":
        click.echo(json.dumps({"threshold": loaded.threshold, "scores": rows}, indent=2))
    else:
        click.echo(_rows_text(rows, loaded.threshold))
    for line in failed:
        click.echo(f"error: {line}", err=True)
    if failed:
        sys.exit(EXIT_BAD_INPUT if bad_input else EXIT_ERROR)


@model.command("info")
@click.argument("model_file", required=False, type=_FILE)
@_FORMAT
def info(model_file: Path | None, fmt: str) -> None:
    """Show a model file's verified manifest (default: the shipped model)."""
    from shouldi.risk_model.describe import manifest_text

    loaded = _load(model_file)
    if fmt == "json":
        click.echo(json.dumps(loaded.manifest, indent=2))
    else:
        click.echo(manifest_text(loaded.manifest))
