"""Tracked training runs: every ``shouldi model train`` is a run in an MLflow tracking store.

MLflow's tracking API is the standard the seeds build on (Scanflow tracks on it), so a run
is a real MLflow run: ``mlflow ui --backend-store-uri URI`` shows it beside anyone else's.
It is the optional extra ``[tracking]``: ``mlflow-skinny`` (the tracking client, without the
server's and the UI's dependencies) with ``sqlalchemy`` and ``alembic`` for the local SQLite
store (MLflow 3 refuses its old ``./mlruns`` file store unless ``MLFLOW_ALLOW_FILE_STORE`` is
set: a database is its supported local store; the first use creates the tables, ~10 s on a
busy 2-core machine, later runs ~1 s). Without the extra ``train`` still trains and saves,
and says once that the run was not recorded (:data:`NOT_INSTALLED`): never an error.

What a run holds (experiment :data:`EXPERIMENT`):

- params: the estimator, its parameters as given (``param.NAME``), the feature set, the
  time-split cutoff, the number of features;
- metrics: every number of the time-split assessment, flattened (``new_projects.model.roc_auc``,
  ``later_uploads.margin``, ...; intervals are left out), and the training rows/positives;
- tags: ``shouldi.data_sha256`` (the training file), ``shouldi.archive_sha256`` (the saved
  model file), ``shouldi.version``, ``shouldi.skilled`` and ``shouldi.skill_reason``, the
  training and archive file names.

The run id goes into the archive's manifest (``tracking``: run id and store), so ``model info``
names the run an archive came from. A run is started before the archive is written (its id
must be in the manifest), finished with the archive's sha256 once it is, and marked FAILED if
saving fails. A store that cannot be opened is a one-line error (exit 2) before any training.

The default store is ``mlflow.db`` in the user data dir (:func:`default_tracking_uri`);
``--tracking-uri`` (or ``$MLFLOW_TRACKING_URI``) names another: a path (a SQLite database
file, made if absent by ``model train``; ``model runs`` only reads: a missing or foreign
SQLite file has no runs and is left as it was) or any URI MLflow takes (``sqlite:///...``, ``http://`` for a tracking
server, ``file://`` where the file store is allowed). MLflow's errors become one line
(:class:`TrackingError`, exit 2); its log lines and warnings are kept quiet.

This module talks to :class:`mlflow.tracking.MlflowClient` only (no global ``mlflow.*``
state, so a test's store never leaks into another's).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shouldi.risk_model.errors import ModelError

__all__ = ["EXPERIMENT", "NOT_INSTALLED", "RunSummary", "Tracker", "TrackingError",
           "default_tracking_uri", "flatten_metrics", "list_runs", "open_tracker", "tracking_uri"]

EXPERIMENT = "shouldi-risk-model"
NOT_INSTALLED = ("the training run was not recorded: tracking needs the tracking extra "
                 "(pip install mlflow-skinny sqlalchemy alembic, or from shouldi's source: pip install "
                 "'.[tracking]')")
_KEY = re.compile(r"[^A-Za-z0-9_\-. /]")


class TrackingError(ModelError):
    """The tracking store cannot be opened or read (exit 2: a bad ``--tracking-uri``)."""

    exit_code = 2


def _sqlite(path: Path) -> str:
    return f"sqlite:///{path.expanduser().resolve()}"


def default_tracking_uri() -> str:
    """``mlflow.db`` in the user data dir, as a ``sqlite:///`` URI."""
    from shouldi.cache.paths import data_dir

    return _sqlite(data_dir() / "mlflow.db")


def tracking_uri(given: str | None) -> str:
    """The store to use: ``given`` (a path is a SQLite database file) or the default."""
    if given is None or not given.strip():
        return default_tracking_uri()
    text = given.strip()
    return text if "://" in text else _sqlite(Path(text))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MLflow's (and alembic's) INFO lines and library warnings are not the user's business."""
    loggers = [logging.getLogger(n) for n in ("mlflow", "alembic")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.WARNING)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def _mlflow() -> Any | None:
    try:
        with _quiet():
            return importlib.import_module("mlflow.tracking")
    except ImportError:
        return None


def flatten_metrics(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every finite number (not a bool) in nested mappings, keyed by its dotted path; lists
    and ``intervals`` are left out (they are not one number)."""
    out: dict[str, float] = {}
    for key, value in data.items():
        name = _KEY.sub("_", f"{prefix}{key}")
        if isinstance(value, Mapping):
            if key != "intervals":
                out.update(flatten_metrics(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def _call(what: str, uri: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """An MLflow call, its errors (of assorted types) as one-line :class:`TrackingError`."""
    try:
        with _quiet():
            return fn(*args, **kwargs)
    except Exception as e:
        text = " ".join(str(e).split())[:300]
        raise TrackingError(f"tracking store {uri}: cannot {what}: {type(e).__name__}: {text}") from e


@dataclass
class Tracker:
    """An open tracking store and the shouldi experiment in it (``client`` None: a store
    opened for listing that holds no runs, left as it was)."""

    uri: str
    client: Any
    experiment_id: str

    def start(self, name: str) -> str:
        """A new run (RUNNING); its id."""
        run = _call("start a run", self.uri, self.client.create_run, self.experiment_id,
                    tags={"mlflow.runName": name, "mlflow.source.name": "shouldi model train"})
        return str(run.info.run_id)

    def log(self, run_id: str, *, params: Mapping[str, object] = {},
            metrics: Mapping[str, float] = {}, tags: Mapping[str, object] = {}) -> None:
        with _quiet():
            entities = importlib.import_module("mlflow.entities")
        now = int(datetime.now(timezone.utc).timestamp() * 1000)
        _call("record the run", self.uri, self.client.log_batch, run_id,
              metrics=[entities.Metric(k, v, now, 0) for k, v in sorted(metrics.items())],
              params=[entities.Param(k, str(v)[:6000]) for k, v in sorted(params.items())],
              tags=[entities.RunTag(k, str(v)[:5000]) for k, v in sorted(tags.items())])

    def finish(self, run_id: str, ok: bool = True) -> None:
        _call("finish the run", self.uri, self.client.set_terminated, run_id,
              "FINISHED" if ok else "FAILED")


def _sqlite_store_absent(uri: str) -> bool:
    """Whether ``uri`` is a SQLite store that does not exist or holds no MLflow schema (read
    read-only: opening it with MLflow would create the file or migrate it into a store)."""
    if not uri.startswith("sqlite:///"):
        return False
    path = Path(uri[len("sqlite:///"):])
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return True
    except OSError:
        return True
    import sqlite3

    try:
        db = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            db.close()
    except sqlite3.Error:
        return True  # not a database: no runs in it
    return not {"alembic_version", "experiments", "runs"} <= tables


def open_tracker(uri: str | None = None, *, create: bool = True) -> Tracker | None:
    """The store at ``uri`` (default: :func:`default_tracking_uri`) with the experiment made;
    None when MLflow is not installed; :class:`TrackingError` when the store cannot be used.

    ``create=False`` (listing): nothing is created or changed. A SQLite store that does not
    exist or is not MLflow's, or a store without the experiment, gives a tracker with no runs
    (``client`` None)."""
    tracking = _mlflow()
    if tracking is None:
        return None
    where = tracking_uri(uri)
    if not create and _sqlite_store_absent(where):
        return Tracker(where, None, "")
    client = _call("open the store", where, tracking.MlflowClient, tracking_uri=where)
    found = _call("read the experiment", where, client.get_experiment_by_name, EXPERIMENT)
    if found is None and not create:
        return Tracker(where, None, "")
    experiment = found.experiment_id if found is not None else _call(
        "create the experiment", where, client.create_experiment, EXPERIMENT)
    return Tracker(where, client, str(experiment))


@dataclass(frozen=True)
class RunSummary:
    """One recorded training run, as ``model runs`` shows it."""

    run_id: str
    name: str
    status: str
    started: str  # ISO time, UTC
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    data_sha256: str | None = None
    archive_sha256: str | None = None
    skilled: bool | None = None
    skill_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "name": self.name, "status": self.status,
                "started": self.started, "params": dict(self.params), "metrics": dict(self.metrics),
                "data_sha256": self.data_sha256, "archive_sha256": self.archive_sha256,
                "skilled": self.skilled, "skill_reason": self.skill_reason}


def _summary(run: Any) -> RunSummary:
    tags = dict(run.data.tags)
    skilled = tags.get("shouldi.skilled")
    started = datetime.fromtimestamp(run.info.start_time / 1000, timezone.utc)
    return RunSummary(str(run.info.run_id), str(tags.get("mlflow.runName", "")), str(run.info.status),
                      started.isoformat(timespec="seconds"), dict(run.data.params),
                      dict(run.data.metrics), tags.get("shouldi.data_sha256"),
                      tags.get("shouldi.archive_sha256"),
                      None if skilled is None else skilled == "True", tags.get("shouldi.skill_reason"))


def list_runs(tracker: Tracker, limit: int = 100) -> Sequence[RunSummary]:
    """The experiment's runs, newest first (none in a store that holds none: ``client`` None)."""
    if tracker.client is None:
        return []
    runs = _call("list the runs", tracker.uri, tracker.client.search_runs, [tracker.experiment_id],
                 order_by=["attributes.start_time DESC"], max_results=limit)
    return [_summary(r) for r in runs]
