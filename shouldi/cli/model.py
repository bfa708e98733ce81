"""``shouldi model``: train, evaluate, use and inspect the risk model.

The model file is a verified archive (:mod:`shouldi.risk_model.archive`); without ``--model``
the model shipped inside shouldi is used. The question a score answers: "will an advisory
affecting this release be published within 12 months of its upload?" Scores are 0-100 (that
calibrated probability) with a plain-language review priority; ``install`` and ``ci`` show
them only for a model with measured skill (``model info`` says whether, and why).
``accuracy`` is the time-split assessment (train on the past, test on later uploads of new
projects) beside the baselines; ``--holdout`` scores a labelled file with the model as it is.

Lifecycle: every ``train`` is recorded as a run in an MLflow tracking store
(:mod:`shouldi.risk_model.tracking`; the ``[tracking]`` extra) and the archive names its run
(``info``); ``runs`` lists and compares them; ``drift`` compares recent scan records with the
training distribution kept in the archive (:func:`shouldi.risk_model.drift.check_drift`).
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

_CUTOFF = "2022-01-01"  # shouldi.risk_model.assess.DEFAULT_CUTOFF (not imported: scikit-learn)

if TYPE_CHECKING:
    from shouldi.risk_model import RiskModel
    from shouldi.risk_model.tracking import RunSummary, Tracker
    from shouldi.settings import Settings

__all__ = ["model"]

_FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                       show_default=True)
_FILE = click.Path(dir_okay=False, path_type=Path)
_TRACKING = click.option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", metavar="URI",
                         help="MLflow tracking store: a SQLite file path or a URI (default: "
                              "mlflow.db in the user data dir; also $MLFLOW_TRACKING_URI).")


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


def _history_features() -> tuple[str, ...]:
    from shouldi.record import HISTORY_COLUMNS

    return HISTORY_COLUMNS


def _code_features() -> tuple[str, ...]:
    from shouldi.record import CODE_FEATURES

    return CODE_FEATURES


def _all_features() -> tuple[str, ...]:
    from shouldi.record import MODEL_FEATURES

    return MODEL_FEATURES


def _capability_features() -> tuple[str, ...]:
    from shouldi.record import CAPABILITY_FEATURES

    return CAPABILITY_FEATURES


_FEATURE_SETS = {"history": _history_features, "code": _code_features, "all": _all_features,
                 "capabilities": _capability_features}


@model.command("train")
@click.argument("features", type=_FILE)
@click.option("--output", "-o", required=True, type=_FILE, help="Model file: .zip or .tar.gz.")
@click.option("--estimator", type=click.Choice(["logistic", "gradient-boosting", "random-forest"]),
              default="logistic", show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Estimator parameter (repeatable), e.g. --param C=0.5.")
@click.option("--features", "feature_set", type=click.Choice(sorted(_FEATURE_SETS)), default="all",
              show_default=True, help="Which columns the model reads (history: no code features; capabilities: history "
                   "and a few code columns).")
@click.option("--cutoff", default=_CUTOFF, show_default=True, metavar="DATE",
              help="Time split: train on releases whose window closed before DATE, test on later uploads.")
@_TRACKING
def train_command(features: Path, output: Path, estimator: str, params: tuple[str, ...],
                  feature_set: str, cutoff: str, tracking_uri: str | None) -> None:
    """Train on FEATURES (a `shouldi dataset build` output with `label` and `date` columns).

    The run is recorded in the tracking store (parameters, metrics, training data and archive
    sha256, skill), when the tracking extra is installed.
    """
    from shouldi.risk_model import load_table, parse_params, train
    from shouldi.risk_model.archive import archive_kind
    from shouldi.risk_model.describe import assessment_text
    from shouldi.risk_model.tracking import NOT_INSTALLED, open_tracker

    archive_kind(output)  # refuse a bad extension before the work
    parsed = parse_params(params)
    tracker = open_tracker(tracking_uri)  # a store that cannot be used: exit 2 before the work
    table = load_table(features, _FEATURE_SETS[feature_set]())
    trained = train(table, estimator, parsed, cutoff=cutoff)
    if tracker is None:
        _save(trained, output)
        click.echo(f"note: {NOT_INSTALLED}", err=True)
    else:
        _save_tracked(trained, output, tracker, {"estimator": estimator, "feature_set": feature_set,
                                                 "cutoff": cutoff, "features": len(trained.features),
                                                 **{f"param.{k}": v for k, v in parsed.items()}})
    m = trained.manifest
    data = m["training_data"]
    click.echo(f"trained {estimator} on {data['rows']} releases ({data['positives']} positive) "
               f"from {data['projects']} projects; {len(trained.features)} features ({feature_set})")
    click.echo(assessment_text(m["metrics"]))
    click.echo(f"saved {output}")
    if "tracking" in m:
        click.echo(f"run {m['tracking']['run_id']} recorded in {m['tracking']['store']}")


def _save(trained: RiskModel, output: Path) -> None:
    from shouldi.risk_model import save_model

    save_model(trained, output)


def _save_tracked(trained: RiskModel, output: Path, tracker: Tracker, params: dict[str, object]) -> None:
    """Start the run, name it in the manifest, save, then finish the run with the archive's
    sha256 (FAILED, and the error raised, when saving fails)."""
    from shouldi.risk_model.data import file_sha256
    from shouldi.risk_model.tracking import flatten_metrics

    m = trained.manifest
    data = m["training_data"]
    run_id = tracker.start(f"train {m['estimator']['name']} on {data['file']}")
    m["tracking"] = {"run_id": run_id, "store": tracker.uri, "experiment": tracker.experiment_id}
    skill = m["metrics"].get("skill") or {}
    tracker.log(run_id, params=params,
                metrics={**flatten_metrics(m["metrics"].get("time_split") or {}),
                         "training.rows": data["rows"], "training.positives": data["positives"],
                         "training.projects": data["projects"]},
                tags={"shouldi.data_sha256": data["sha256"], "shouldi.data_file": data["file"],
                      "shouldi.version": m["versions"]["shouldi"],
                      "shouldi.skilled": bool(skill.get("skilled")),
                      "shouldi.skill_reason": skill.get("reason", "")})
    try:
        _save(trained, output)
    except BaseException:
        tracker.finish(run_id, ok=False)
        raise
    tracker.log(run_id, tags={"shouldi.archive_sha256": file_sha256(output),
                              "shouldi.archive_file": output.name})
    tracker.finish(run_id)


@model.command("accuracy")
@click.option("--model", "model_path", type=_FILE, help="Model file (default: the shipped model).")
@click.argument("features", type=_FILE)
@_FORMAT
@click.option("--cutoff", default=None, metavar="DATE",
              help="Time-split cutoff (default: the one the model was trained with).")
@click.option("--holdout", is_flag=True,
              help="Score FEATURES with the model as it is (a held-out file), beside the baselines.")
def accuracy(model_path: Path | None, features: Path, fmt: str, cutoff: str | None,
             holdout: bool) -> None:
    """Time-split assessment on FEATURES of the model's estimator, beside the baselines."""
    from shouldi.risk_model import load_table
    from shouldi.risk_model.assess import assess, holdout_report, skill
    from shouldi.risk_model.describe import assessment_text

    loaded = _load(model_path)
    table = load_table(features, loaded.features)
    if holdout:
        report = holdout_report(loaded, table)
        data: dict[str, Any] = {"time_split": {"holdout": report.to_json()}, "notes": [
            "held-out scoring: baselines are fitted on the scored file itself (which favours them)"]}
        if table.sha256 == loaded.training_sha256:
            data["notes"].append("this is the training data: held-out scoring overstates accuracy")
    else:
        config = loaded.manifest["estimator"]
        splits = (loaded.manifest.get("metrics") or {}).get("time_split") or {}
        used = cutoff or next((str(s.get("cutoff")) for s in splits.values()), None) or _CUTOFF
        reports, notes = assess(table, loaded.estimator, dict(config.get("params") or {}), used)
        data = {"time_split": {k: r.to_json() for k, r in reports.items()}, "notes": notes}
        judged = skill({"metrics": data})
        data["skill"] = {"skilled": judged.skilled, "reason": judged.reason}
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, allow_nan=False))
    else:
        click.echo(assessment_text(data))


def _score_rows(loaded: RiskModel, names: Sequence[tuple[str, str | None]],
                records: Sequence[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    x = loaded.matrix(records)
    shown = loaded.present(x) if len(records) else []
    reasons = loaded.explain(x, top) if len(records) else []
    drift = [loaded.score(x[i:i + 1])[0].drift for i in range(len(records))]
    return [{"name": n, "version": v, "score": round(100 * p.probability, 1), "priority": p.priority,
             "text": p.text, "reliable": not d, "drift": list(d),
             "top_features": [{"feature": c.feature, "value": c.value, "contribution": c.contribution}
                              for c in r]}
            for (n, v), p, r, d in zip(names, shown, reasons, drift, strict=True)]


def _rows_text(rows: Sequence[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        lines.append(f"{row['score']:5.1f}  {row['name']} {row['version'] or ''}")
        lines.append(f"       {row['text']}")
        if row["drift"]:
            lines.append(f"       less reliable: outside the training range: {', '.join(row['drift'])}")
    lines.append("(score = 100 x P(an advisory affecting the release is published within 12 months "
                 "of its upload))")
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
        for number, r in enumerate(records, 1):  # a foreign file would be scored as "None None"
            if not all(isinstance(r.get(k), str) and r.get(k) for k in ("name", "version")):
                raise UsageError(f"{dataset}: record {number}: not a scan record (no name and "
                                 "version): is it a `shouldi scan -o` or `dataset build` output?")
        names: list[tuple[str, str | None]] = [(str(r["name"]), str(r["version"])) for r in records]
    else:
        from shouldi.api import answer
        from shouldi.cli.dataset_build import history_checks, with_history
        from shouldi.record import report_to_record

        records, names = [], []
        for outcome in answer(list(specs), settings):
            report = outcome.report
            if report.version is None:
                bad_input = bad_input or outcome.bad_input
                failed.append(f"{outcome.spec}: {report.reasons[0].message if report.reasons else '?'}")
                continue
            pinned = f"{report.name}=={report.version}"
            history = history_checks([(pinned, {})], settings.index_url, settings.timeout)  # advisory history unknown
            records.append(report_to_record(with_history(report, history[pinned]), settings.index_url))
            names.append((report.name, report.version))
    rows = _score_rows(loaded, names, records, top)
    if not loaded.skill.skilled:
        click.echo(f"warning: {loaded.skill.reason} (install and ci show none)", err=True)
    if fmt == "json":
        click.echo(json.dumps({"question": loaded.manifest.get("question"),
                               "skilled": loaded.skill.skilled, "skill": loaded.skill.reason,
                               "scores": rows}, indent=2, allow_nan=False))
    else:
        click.echo(_rows_text(rows))
    for line in failed:
        click.echo(f"error: {line}", err=True)
    if failed:
        sys.exit(EXIT_BAD_INPUT if bad_input else EXIT_ERROR)


@model.command("info")
@click.argument("model_file", required=False, type=_FILE)
@_FORMAT
def info(model_file: Path | None, fmt: str) -> None:
    """Show a model file's verified manifest (default: the shipped model) and the run it came from."""
    from shouldi.risk_model.describe import manifest_text

    loaded = _load(model_file)
    if fmt == "json":
        data = {**loaded.manifest, "shown": {"skilled": loaded.skill.skilled, "reason": loaded.skill.reason},
                "run": _run_of(loaded.manifest)}
        click.echo(json.dumps(data, indent=2, allow_nan=False))
    else:
        click.echo(manifest_text(loaded.manifest))
        click.echo(f"  training run: {_run_of(loaded.manifest) or 'none recorded (trained without tracking)'}")


def _run_of(manifest: dict[str, Any]) -> str | None:
    tracked = manifest.get("tracking")
    if not isinstance(tracked, dict) or not tracked.get("run_id"):
        return None
    return f"{tracked['run_id']} in {tracked.get('store')}"


_COMPARED = ("time_project.model.roc_auc", "time_project.margin", "time.model.roc_auc")


def _runs_text(runs: Sequence[RunSummary]) -> str:
    if not runs:
        return "no training runs recorded"
    keys = [k for k in _COMPARED if any(k in r.metrics for r in runs)]
    rows = [("RUN", "STARTED", "STATUS", "ESTIMATOR", "ROWS", "SKILLED", *keys, "DATA SHA256")]
    for r in runs:
        skilled = "?" if r.skilled is None else "yes" if r.skilled else "no"
        rows.append((r.run_id, r.started, r.status, r.params.get("estimator", ""),
                     str(int(r.metrics.get("training.rows", 0))), skilled,
                     *(f"{r.metrics[k]:.3f}" if k in r.metrics else "-" for k in keys),
                     (r.data_sha256 or "")[:16]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


@model.command("runs")
@_TRACKING
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@_FORMAT
def runs(tracking_uri: str | None, limit: int, fmt: str) -> None:
    """List and compare the recorded training runs, newest first."""
    from shouldi.risk_model.tracking import list_runs, open_tracker

    tracker = open_tracker(tracking_uri, create=False)  # listing never creates or migrates
    if tracker is None:
        raise UsageError("model runs needs the tracking extra: pip install mlflow-skinny sqlalchemy "
                         "alembic, or from shouldi's source: pip install '.[tracking]'")
    found = list_runs(tracker, limit)
    if fmt == "json":
        click.echo(json.dumps({"store": tracker.uri, "runs": [r.to_json() for r in found]},
                              indent=2, allow_nan=False))
    else:
        click.echo(f"store: {tracker.uri}")
        click.echo(_runs_text(found))


@model.command("drift")
@click.option("--model", "model_path", type=_FILE, help="Model file (default: the shipped model).")
@click.argument("recent", nargs=-1, required=True, type=_FILE)
@click.option("--threshold", type=click.FloatRange(0.0, 100.0), default=0.2, show_default=True,
              callback=lambda _c, _p, v: _finite(v, "--threshold"),
              help="PSI above which a feature has drifted (exit 1).")
@_FORMAT
def drift(model_path: Path | None, recent: tuple[Path, ...], threshold: float, fmt: str) -> None:
    """Compare RECENT scan records (.csv/.jsonl/.sqlite) with the model's training data.

    \b
    Per feature (by column name): PSI over the training deciles and a KS statistic at those
    edges. Exit codes: 0 no feature over --threshold; 1 some feature over it; 2 bad input.
    """
    from shouldi.risk_model.drift import check_drift

    loaded = _load(model_path)
    records = _recent_records(recent)
    columns = _columns(records, loaded.features)
    if not columns:
        raise UsageError(f"none of the model's {len(loaded.features)} feature columns is in "
                         f"{', '.join(map(str, recent))} (is it a `shouldi scan -o` or "
                         "`dataset build` output?)")
    report = check_drift(loaded.ranges, columns, len(records), threshold)
    if report.measured == 0:
        raise UsageError(f"no feature of the model is known in any recent record ({len(records)} "
                         "records): nothing to compare")
    if fmt == "json":
        click.echo(json.dumps({"model": str(_model_path(model_path)), "run": _run_of(loaded.manifest),
                               **report.to_json()}, indent=2, allow_nan=False))
    else:
        click.echo(_drift_text(report))
    if report.over:
        sys.exit(1)


def _finite(value: float, what: str) -> float:
    import math

    if not math.isfinite(value):  # nan compares false with both bounds of FloatRange
        raise click.BadParameter(f"{value} is not a finite number", param_hint=what)
    return value


def _recent_records(paths: Sequence[Path]) -> list[dict[str, Any]]:
    from shouldi.sources import open_source

    records: list[dict[str, Any]] = []
    for path in paths:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
        records += [dict(r) for r in open_source(path).read()]
    if not records:
        raise UsageError(f"{', '.join(map(str, paths))}: no records")
    return records


def _columns(records: Sequence[dict[str, Any]], features: Sequence[str]) -> dict[str, Any]:
    """Recent values by feature, for the features some record has (others are unknown)."""
    from shouldi.risk_model.data import records_matrix
    from shouldi.risk_model.errors import TrainingDataError

    present = [f for f in features if any(f in r for r in records)]
    try:
        x = records_matrix(records, present)
    except TrainingDataError as e:
        raise UsageError(f"recent records: {e}") from e
    return {f: x[:, j] for j, f in enumerate(present)}


def _drift_text(report: Any) -> str:
    lines = [f"{report.records} recent records; PSI threshold {report.threshold:g}; "
             f"{report.measured} of {len(report.features)} features measured"]
    for f in sorted(report.features, key=lambda f: -1.0 if f.psi is None else f.psi, reverse=True):
        if f.psi is None:
            lines.append(f"  {'':>8}  {f.name}: {f.note}")
            continue
        flag = "  DRIFT" if f.over else ""
        lines.append(f"  PSI {f.psi:6.3f}  KS {f.ks:5.3f}  {f.name} ({f.recent_known} known, unknown "
                     f"{100 * f.recent_unknown_share:.0f}% vs {100 * f.training_unknown_share:.0f}% "
                     f"in training){flag}")
    over = report.over
    lines.append(f"drift over the threshold: {', '.join(over)}" if over else
                 "no feature over the threshold")
    return "\n".join(lines)
