"""Running the shouldi flow for a list of specs: the shared core of ``install``, ``scan`` and ``ci``."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shouldi.errors import EXIT_BAD_INPUT
from shouldi.policy import Policy
from shouldi.results import Severity
from shouldi.verdict import PackageReport, Reason, Verdict

if TYPE_CHECKING:  # the engine and the operations load only when something must be scanned
    from shouldi.answer_cache import AnswerCache
    from shouldi.dataflow import ContextResult
    from shouldi.risk_model.score_cache import ScoreCache

__all__ = ["ScanSettings", "SpecOutcome", "answer_settings", "scan_specs"]


@dataclass(frozen=True)
class ScanSettings:
    index_url: str
    policy: Policy
    timeout: float = 30.0
    scan_timeout: float = 900.0
    cache_dir: Path | None = None
    no_cache: bool = False
    advisory_db: Path | None = None
    pip_audit_osv_url: str | None = None
    pip_audit: bool = True
    safety_cli: bool = True
    jobs: int = 4
    risk: bool = True
    max_age: float = 0.0  # seconds a whole answer may be reused (0: never; see shouldi.answer_cache)


@dataclass(frozen=True)
class SpecOutcome:
    """The report for one spec, or why there is none (``bad_input``: the spec named nothing real)."""

    spec: str
    report: PackageReport
    bad_input: bool = False
    result: ContextResult | None = None
    answered_at: float | None = None  # set when the answer was reused from the answer cache


def _report_without_verdict(spec: str, ctx: ContextResult) -> SpecOutcome:
    failure = next((f for f in ctx.failures if f.operation == "resolve_release"), None)
    if failure is not None:
        bad = getattr(failure.exception, "exit_code", None) == EXIT_BAD_INPUT
        reason = Reason("resolve", Severity.HIGH, failure.message, None, Verdict.ERROR)
        return SpecOutcome(spec, PackageReport(spec, None, Verdict.ERROR, (reason,), {}, spec), bad, ctx)
    problems = [f"{f.operation}: {f.message}" for f in ctx.failures] + [
        f"{s.operation}: {s.reason}" for s in ctx.skipped
    ]
    message = "; ".join(problems) or "the scan was cancelled"
    reason = Reason("scan", Severity.HIGH, message, None, Verdict.ERROR)
    return SpecOutcome(spec, PackageReport(spec, None, Verdict.ERROR, (reason,), {}, spec), False, ctx)


def _with_failures(report: PackageReport, ctx: ContextResult) -> PackageReport:
    """Add the failures of operations to the report's reasons (they explain `error` verdicts)."""
    extra = tuple(
        Reason(f.operation, Severity.HIGH, f"{f.operation} failed: {f.message}", None, Verdict.ERROR)
        for f in ctx.failures
    )
    if not extra:
        return report
    verdict = report.verdict if report.verdict.rank >= Verdict.ERROR.rank else Verdict.ERROR
    return replace(report, verdict=verdict, reasons=report.reasons + extra)


def _with_risk(report: PackageReport, settings: ScanSettings) -> PackageReport:
    """Add the shipped risk model's score (0-100) and what drove it; the policy may gate on it.

    The score informs triage; it is not a check, so a model that cannot load is a warning.
    """
    if not settings.risk or report.version is None:
        return report
    from shouldi.verdict import with_risk

    cache, features = _score_cache(settings), _model_features(report)
    cached = cache.get(features) if cache is not None else None
    if cached is not None:
        return with_risk(report, cached, settings.policy)
    from shouldi.risk_model import ModelArchiveError, score_report

    try:
        risk = score_report(report)
        if risk is not None and cache is not None:
            cache.put(features, risk)
    except ModelArchiveError as e:
        reason = Reason("risk", Severity.LOW, f"risk model unavailable: {e}", None, Verdict.WARN)
        worst = max((report.verdict, Verdict.WARN), key=lambda v: v.rank)
        return replace(report, verdict=worst, reasons=(*report.reasons, reason))
    return with_risk(report, risk, settings.policy)


def _score_cache(settings: ScanSettings) -> ScoreCache | None:
    """Risk scores by model and features (none with ``--no-cache`` or without a shipped model)."""
    from shouldi.paths import cache_root
    from shouldi.risk_model.score_cache import ScoreCache, shipped_model_path

    model = shipped_model_path()
    if settings.no_cache or model is None:
        return None
    try:
        return ScoreCache((settings.cache_dir or cache_root()) / "risk", model)
    except OSError:
        return None  # an unreadable model is reported when it is loaded


def _model_features(report: PackageReport) -> dict[str, object]:
    from shouldi.record import MODEL_FEATURES, report_to_record

    record = report_to_record(report, "")
    return {c: record[c] for c in MODEL_FEATURES}


@contextlib.contextmanager
def _no_progress() -> Iterator[Callable[[str], None]]:
    yield lambda _spec: None


def _result_cache(settings: ScanSettings) -> dict[str, object]:
    """``Session.extra`` holding the code-scan result cache (none with ``--no-cache``)."""
    if settings.no_cache:
        return {}
    from shouldi.operations.cache import RESULT_CACHE
    from shouldi.result_cache import ResultCache

    root = settings.cache_dir / "results" if settings.cache_dir is not None else None
    return {RESULT_CACHE: ResultCache(root)}


def answer_settings(settings: ScanSettings) -> dict[str, Any]:
    """Everything besides the spec that decides an answer (the answer cache's key)."""
    from shouldi.paths import default_store_path

    store = settings.advisory_db or default_store_path()
    try:
        st = store.stat()
        store_state: object = [str(store), st.st_size, st.st_mtime_ns]
    except OSError:
        store_state = [str(store), None]
    return {
        "index_url": settings.index_url,
        "policy": dataclasses.asdict(settings.policy),
        "advisory_store": store_state,
        "pip_audit": [settings.pip_audit, settings.pip_audit_osv_url],
        "safety_cli": settings.safety_cli,
        "risk": settings.risk,
    }


def _answer_cache(settings: ScanSettings) -> AnswerCache | None:
    if settings.no_cache or settings.max_age <= 0:
        return None
    from shouldi.answer_cache import AnswerCache
    from shouldi.paths import cache_root

    root = (settings.cache_dir or cache_root()) / "answers"
    return AnswerCache(root, answer_settings(settings), settings.max_age)


async def _run(specs: Sequence[str], settings: ScanSettings, on_done: Callable[[str], None],
               on_outcome: Callable[[SpecOutcome], None] | None = None) -> dict[str, SpecOutcome]:
    from shouldi.dataflow import Orchestrator
    from shouldi.flow import build_flow
    from shouldi.index import ArtifactCache, make_client
    from shouldi.operations.definitions import RequirementSpec, Session

    cache = None if settings.no_cache else ArtifactCache(settings.cache_dir)
    async with make_client(timeout=settings.timeout) as client:
        session = Session(
            client=client,
            index_url=settings.index_url,
            policy=settings.policy,
            cache=cache,
            scan_timeout=settings.scan_timeout,
            advisory_db=settings.advisory_db,
            pip_audit_osv_url=settings.pip_audit_osv_url,
            pip_audit=settings.pip_audit,
            safety_cli=settings.safety_cli,
            risk_model=settings.risk,
            extra=_result_cache(settings),
        )
        contexts = [(s, {RequirementSpec: s, Session: session}) for s in specs]
        outcomes: dict[str, SpecOutcome] = {}
        async with Orchestrator(build_flow(), max_contexts=settings.jobs, process_workers=2) as orch:
            async for ctx in orch.run_iter(contexts):
                report = ctx.get(PackageReport, None)
                if report is None:
                    outcomes[ctx.context] = _report_without_verdict(ctx.context, ctx)
                else:
                    report = _with_risk(_with_failures(report, ctx), settings)
                    outcomes[ctx.context] = SpecOutcome(ctx.context, report, False, ctx)
                if on_outcome is not None:
                    on_outcome(outcomes[ctx.context])
                on_done(ctx.context)
    return outcomes


def scan_specs(specs: Sequence[str], settings: ScanSettings,
               progress: Callable[[], contextlib.AbstractContextManager[Callable[[str], None]]] | None = None,
               on_outcome: Callable[[SpecOutcome], None] | None = None,
               ) -> list[SpecOutcome]:
    """Scan every spec concurrently (at most ``settings.jobs`` at once).

    ``on_outcome`` sees each outcome as soon as its spec is done (e.g. to write it out), in
    the order they finish; the returned list keeps the order of ``specs``. With
    ``settings.max_age``, answers given less than that many seconds ago are reused (see
    :mod:`shouldi.answer_cache`): then nothing is imported, fetched or scanned for them.
    """
    unique = list(dict.fromkeys(specs))
    answers = _answer_cache(settings)
    outcomes: dict[str, SpecOutcome] = {}
    for spec in unique if answers is not None else ():
        hit = answers.get(spec) if answers is not None else None
        if hit is not None:
            outcomes[spec] = SpecOutcome(spec, hit.report, answered_at=hit.answered_at)
            if on_outcome is not None:
                on_outcome(outcomes[spec])

    def store(outcome: SpecOutcome) -> None:
        if answers is not None and not outcome.bad_input:
            answers.put(outcome.spec, outcome.report)
        if on_outcome is not None:
            on_outcome(outcome)

    missing = [s for s in unique if s not in outcomes]
    if missing:
        import asyncio

        with (progress or _no_progress)() as on_done:
            outcomes.update(asyncio.run(_run(missing, settings, on_done, store)))
    return [outcomes[s] for s in unique]
