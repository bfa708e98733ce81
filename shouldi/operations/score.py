"""The end of the flow: gather every check, score the risk, judge.

::

    (every check, or why it is missing) ─ gather_checks ─ CheckSet ─┬─ risk_score ─ RiskAnswer ─┐
                                                                   └───────────────────────────┴─ judge_release ─ PackageReport

``gather_checks`` takes each check as ``X | Missing``: the engine says why a check has no
result (its operation raised, was skipped, produced nothing), so a check that raised and one
that returned "could not check" reach the verdict the same way. Plugin checks
(:data:`~shouldi.operations.definitions.PluginCheck`) are collected whatever their number.
``judge_release`` also answers for a spec that resolved to nothing, so every context ends
with a report made by the flow.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Annotated

from shouldi.cache import Cache
from shouldi.dataflow import ALL, Missing, op
from shouldi.operations.definitions import (
    AdvisoryReport,
    ArchiveCheck,
    BanditResult,
    HashPins,
    HeuristicsResult,
    HistoryResult,
    InputCheck,
    MetadataResult,
    PluginCheck,
    RequirementSpec,
    RiskAnswer,
    RiskConfig,
    ScanNeeded,
    SpecWanted,
    TyposquatResult,
    Wanted,
)
from shouldi.policy import Policy
from shouldi.results import CheckResult, Finding, Release, Severity, Status
from shouldi.verdict.judge import CheckOutcome, CheckSet, judge, not_resolved
from shouldi.verdict.report import PackageReport, Reason, Verdict

__all__ = ["BUILTIN_CHECKS", "gather_checks", "hash_check", "judge_release", "preload_risk_model",
           "risk_score"]

#: Built-in checks and whether each is required (could not run: ``error``, else ``warn``);
#: ``history`` only feeds the risk model (see shouldi.verdict.rules.INFORMS_ONLY).
BUILTIN_CHECKS = {"archive": True, "bandit": True, "heuristics": True, "advisories": True,
                  "metadata": False, "typosquat": False, "input": False, "history": False}


def _given(name: str, value: CheckResult | Missing | None) -> CheckResult | Missing:
    if value is None:  # called directly, without the engine
        return Missing(name, "not produced", f"{name} did not run")
    return value


@op(conditions=[Wanted])
def gather_checks(
    release: Release,
    archive: ArchiveCheck | Missing | None = None,
    bandit: BanditResult | Missing | None = None,
    heuristics: HeuristicsResult | Missing | None = None,
    advisories: AdvisoryReport | Missing | None = None,
    metadata: MetadataResult | Missing | None = None,
    typosquat: TyposquatResult | Missing | None = None,
    history: HistoryResult | Missing | None = None,
    pinned: InputCheck | None = None,
    plugins: Annotated[tuple[PluginCheck | Missing, ...], ALL] = (),
) -> CheckSet:
    """Every check of the release, each a result or the reason it has none."""
    adv: CheckResult | Missing | None = advisories.check if isinstance(advisories, AdvisoryReport) else advisories
    given = {"archive": archive, "bandit": bandit, "heuristics": heuristics, "advisories": adv,
             "metadata": metadata, "typosquat": typosquat, "history": history}
    outcomes = [CheckOutcome(n, _given(n, v), BUILTIN_CHECKS[n]) for n, v in given.items()]
    if pinned is not None:
        outcomes.append(CheckOutcome("input", pinned, BUILTIN_CHECKS["input"]))
    taken = {o.name for o in outcomes}
    for p in plugins:
        name = p.operation or p.definition if isinstance(p, Missing) else p.check
        if name in BUILTIN_CHECKS or name in taken:
            name = f"plugin:{name}"
        taken.add(name)
        outcomes.append(CheckOutcome(name, p, required=True))
    if isinstance(advisories, AdvisoryReport):
        return CheckSet(tuple(outcomes), advisories.advisories, advisories.answers)
    return CheckSet(tuple(outcomes))


@op(executor="inline", conditions=[Wanted])
def hash_check(release: Release, pins: HashPins) -> InputCheck:
    """The file judged must be one the requirement's ``--hash`` values allow (pip would
    otherwise install a different file)."""
    artifact = release.artifact
    if artifact.sha256 and f"sha256:{artifact.sha256.lower()}" in pins:
        return InputCheck(CheckResult("input", Status.OK, (), "the judged file matches a --hash pin"))
    finding = Finding("input", "hash-not-pinned", Severity.MEDIUM,
                      f"the judged file {artifact.filename} is not one of the --hash values: "
                      "pip would install a different file")
    return InputCheck(CheckResult("input", Status.OK, (finding,)))


@op
def risk_score(release: Release, checks: CheckSet, policy: Policy, risk: RiskConfig,
               cache: Cache) -> RiskAnswer:
    """The risk model's score, from the score cache when this model scored these features.

    Only a model with measured skill shows a score (``shouldi model info`` says why one does
    not); an unskilled shipped model is never loaded (scikit-learn is not imported). The score
    informs triage; it is not a check: a model that cannot load is a warning."""
    if not risk.enabled:
        return RiskAnswer(None)
    from shouldi.risk_model.shipped import shipped_model_path
    from shouldi.risk_model.skill import shipped_skill

    if risk.model is None:
        judged = shipped_skill()
        if judged is None or not judged.skilled:
            return RiskAnswer(None)
    path = risk.model or shipped_model_path()
    if path is None:
        return RiskAnswer(None)
    from shouldi.record import report_to_record

    preliminary = judge(release, checks, policy)  # the record the model reads
    record = report_to_record(preliminary, "")
    scores = cache.scores(path)
    key = {k: v for k, v in record.items() if k.startswith(("history.", "heuristics.", "bandit.",
                                                           "archive.", "metadata."))}
    hit = scores.get(key) if scores is not None else None
    if hit is not None:
        return RiskAnswer(hit)
    from shouldi.risk_model import ModelArchiveError, default_model, load_model, score_report

    try:
        model = default_model() if risk.model is None else load_model(path)
    except ModelArchiveError as e:
        return RiskAnswer(None, f"risk model unavailable: {e}")
    if model is None:
        return RiskAnswer(None)
    score = score_report(preliminary, model)
    if score is not None and scores is not None:
        scores.put(key, score)
    return RiskAnswer(score)


@op(executor="inline", conditions=[ScanNeeded])
def preload_risk_model(archive: ArchiveCheck, risk: RiskConfig) -> None:
    """Load the shipped risk model (scikit-learn, ~3 s) in a thread while the release is
    scanned, so that scoring it afterwards is immediate.

    Only when the release is scanned now: a release whose scan is cached usually has its
    score cached too. It waits for the archive check (after extraction, which is Python code
    in this process that the import would slow down); bandit and the heuristics run in other
    processes. A model that cannot load is reported by :func:`risk_score`, not here.

    An unskilled shipped model shows no score, so it is not loaded at all (checked from its
    manifest first: importing :mod:`shouldi.risk_model.predict` imports scikit-learn).
    The load runs in a daemon thread, not an executor's: a stop (Ctrl-C, SIGTERM) must not wait
    for scikit-learn's import, which ``asyncio.run`` would when shutting its executor down."""
    if not risk.enabled or risk.model is not None:
        return
    from shouldi.risk_model.skill import shipped_skill

    judged = shipped_skill()  # read from the manifest alone: no numpy, no scikit-learn
    if judged is None or not judged.skilled:
        return  # no score will be shown: importing scikit-learn (~1 s of CPU) would be waste
    threading.Thread(target=_preload, name="shouldi-risk-preload", daemon=True).start()


def _preload() -> None:
    from shouldi.risk_model import ModelError
    from shouldi.risk_model.predict import preload_default_model

    with contextlib.suppress(ModelError):
        preload_default_model()


@op
def judge_release(
    spec: RequirementSpec,
    policy: Policy,
    release: Release | Missing | None = None,
    checks: CheckSet | Missing | None = None,
    risk: RiskAnswer | Missing | None = None,
    wanted: Wanted | None = None,
    spec_wanted: SpecWanted | None = None,
) -> PackageReport:
    """The answer: from the checks when the release resolved, else why it did not. A release
    already recorded (``wanted`` or ``spec_wanted`` false) gets an empty report: it was not
    checked again."""
    if spec_wanted is False:
        from shouldi.operations.fetch import pinned_release

        name, version = pinned_release(spec) or (str(spec), None)
        return PackageReport(name, version, Verdict.PASS, (), {}, str(spec))
    if not isinstance(release, Release):
        why = release or Missing("Release", "not produced", "resolve_release did not run")
        return not_resolved(str(spec), why)
    if wanted is False:
        return PackageReport(release.name, release.version, Verdict.PASS, (), {}, release.requested,
                             release.artifact, (), None, release.artifact_reason)
    if not isinstance(checks, CheckSet):
        cause = checks.message if checks is not None else "the checks were not gathered"
        reason = Reason("scan", Severity.HIGH, f"could not check this release ({cause})", None,
                        Verdict.ERROR, allowable=False)
        return PackageReport(release.name, release.version, Verdict.ERROR, (reason,), {},
                             release.requested, release.artifact, (), None, release.artifact_reason)
    problem = None
    if isinstance(risk, Missing):
        problem = f"risk score unavailable: {risk.message}"
    elif risk is not None:
        problem = risk.problem
    score = risk.score if isinstance(risk, RiskAnswer) else None
    return judge(release, checks, policy, score, risk_problem=problem)
