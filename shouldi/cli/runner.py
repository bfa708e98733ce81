"""Running the shouldi flow for a list of specs: the shared core of ``install``, ``scan`` and ``ci``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from shouldi.dataflow import ContextResult, Orchestrator
from shouldi.errors import EXIT_BAD_INPUT
from shouldi.operations.definitions import RequirementSpec, Session
from shouldi.policy import Policy
from shouldi.results import Severity
from shouldi.verdict import PackageReport, Reason, Verdict

__all__ = ["ScanSettings", "SpecOutcome", "scan_specs"]


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


@dataclass(frozen=True)
class SpecOutcome:
    """The report for one spec, or why there is none (``bad_input``: the spec named nothing real)."""

    spec: str
    report: PackageReport
    bad_input: bool = False
    result: ContextResult | None = None


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
    from shouldi.risk_model import ModelArchiveError, score_report
    from shouldi.verdict import with_risk

    try:
        risk = score_report(report)
    except ModelArchiveError as e:
        reason = Reason("risk", Severity.LOW, f"risk model unavailable: {e}", None, Verdict.WARN)
        worst = max((report.verdict, Verdict.WARN), key=lambda v: v.rank)
        return replace(report, verdict=worst, reasons=(*report.reasons, reason))
    return with_risk(report, risk, settings.policy)


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


async def _run(specs: Sequence[str], settings: ScanSettings, on_done: Callable[[str], None],
               on_outcome: Callable[[SpecOutcome], None] | None = None) -> list[SpecOutcome]:
    from shouldi.index import ArtifactCache, make_client

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
            extra=_result_cache(settings),
        )
        contexts = [(s, {RequirementSpec: s, Session: session}) for s in dict.fromkeys(specs)]
        outcomes: dict[str, SpecOutcome] = {}
        from shouldi.flow import build_flow

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
    return [outcomes[s] for s in dict.fromkeys(specs)]


def scan_specs(specs: Sequence[str], settings: ScanSettings,
               progress: Callable[[], contextlib.AbstractContextManager[Callable[[str], None]]] | None = None,
               on_outcome: Callable[[SpecOutcome], None] | None = None,
               ) -> list[SpecOutcome]:
    """Scan every spec concurrently (at most ``settings.jobs`` at once).

    ``on_outcome`` sees each outcome as soon as its spec is done (e.g. to write it out), in
    the order they finish; the returned list keeps the order of ``specs``.
    """
    with (progress or _no_progress)() as on_done:
        return asyncio.run(_run(specs, settings, on_done, on_outcome))
