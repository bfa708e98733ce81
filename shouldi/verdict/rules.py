"""The rules that turn check results into reasons. One place; every other layer only reads.

Severity policy ("fail" means it):

- **fail**: evidence of malicious behaviour (a heuristics finding at or above
  ``policy.heuristics_fail``, ``high`` by default; a refused or ambiguous archive) or a known
  vulnerability at or above ``policy.advisory_fail``;
- **warn**: a risky capability that really runs at install or import time (heuristics at or
  above ``policy.heuristics_warn``), metadata and typosquatting signals, a check that is only
  informative and could not run;
- **error**: a required check could not run — whether its operation raised, was skipped or
  returned "skipped/error" makes no difference: all arrive here as "could not check", grouped
  by their first cause so one crash is one reason;
- **information** (verdict ``pass``): everything else, bandit findings included (bandit's
  totals never warn unless the policy sets ``bandit_warn_high``), kept as evidence.

Dependency trees (``shouldi install``, ``lock``, requirements files in ``scan``/``ci``) add
reasons of the check ``dependencies``, see :func:`tree_node_reasons` and
:func:`dependency_verdict_reasons`: a dependency that fails fails what pulls it in; one that
could not be checked makes it ``error``; dependencies that only running the build would tell
are a warning, never dropped.

Scanners decide how severe a finding is from where the code runs (see
:mod:`shouldi.scanners.heuristics`); nothing here second-guesses them by file name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone

from shouldi.dataflow.inputs import Missing
from shouldi.policy import Policy
from shouldi.results import Advisory, AdvisoryAnswer, CheckResult, Finding, Severity, Status
from shouldi.verdict.report import Reason, RiskScore, Verdict

__all__ = ["DEPENDENCIES_CHECK", "MAX_INFO_REASONS", "STALE_DATA_CHECK", "advisory_reasons",
           "dependency_verdict_reasons", "finding_reasons", "not_pinned_reason", "required_by_reason",
           "risk_reasons", "staleness_reasons", "tree_node_reasons", "unchecked_reasons",
           "unresolved_tree_reason"]

#: The check name of "advisory data is N days old" (a fact about the run: said once).
STALE_DATA_CHECK = "advisory-data"
#: Checks that only feed the risk model: they never add a reason (not even "could not check").
INFORMS_ONLY = frozenset({"history"})
#: Checks whose "could not check" reason is already one line that says what to do (the
#: advisory sources: :func:`shouldi.advisories.messages.problem_line`): printed as it is.
_SAYS_IT_ALL = frozenset({"advisories"})
#: Information-only reasons kept per check (the rest are counted in one line).
MAX_INFO_REASONS = 20
#: The check name of reasons about a package's place in a dependency tree.
DEPENDENCIES_CHECK = "dependencies"


def where(f: Finding) -> str | None:
    if f.file is None:
        return None
    return f"{f.file}:{f.line}" if f.line is not None else f.file


def _by_severity(severity: Severity, fail_at: Severity | None, warn_at: Severity | None) -> Verdict:
    if fail_at is not None and severity.rank >= fail_at.rank:
        return Verdict.FAIL
    if warn_at is not None and severity.rank >= warn_at.rank:
        return Verdict.WARN
    return Verdict.PASS


def _thresholds(check: str, policy: Policy) -> tuple[Severity | None, Severity | None]:
    """(fail at, warn at) for the findings of ``check``."""
    if check == "heuristics":
        return policy.heuristics_fail, policy.heuristics_warn
    if check == "metadata":
        return (Severity.MEDIUM if policy.metadata_fail else None), Severity.MEDIUM
    if check == "typosquat":
        return (Severity.LOW if policy.typosquat_fail else None), Severity.LOW
    if check == "bandit":
        return None, None  # see _bandit: counts, not single findings
    return Severity.HIGH, Severity.MEDIUM  # archive, input, plugin checks


def finding_reasons(result: CheckResult, policy: Policy) -> list[Reason]:
    """Reasons for the findings of a check that ran."""
    fail_at, warn_at = _thresholds(result.check, policy)
    counted: list[Reason] = []
    info: list[Reason] = []
    for f in result.findings:
        verdict = _by_severity(f.severity, fail_at, warn_at)
        reason = Reason(result.check, f.severity, _message(f), where(f), verdict)
        (info if verdict is Verdict.PASS else counted).append(reason)
    if result.check == "bandit":
        counted += _bandit(result, policy)
    info.sort(key=lambda r: -r.severity.rank)
    shown = info[:MAX_INFO_REASONS]
    if len(info) > len(shown):
        shown.append(Reason(result.check, Severity.INFO,
                            f"and {len(info) - len(shown)} more {result.check} findings "
                            "(information only)", None, Verdict.PASS))
    return counted + shown


def _message(f: Finding) -> str:
    return f"{f.rule}: {f.message}" if f.check in ("heuristics", "bandit") else f.message


def _bandit(result: CheckResult, policy: Policy) -> list[Reason]:
    """Only when the policy asks: a weighted count of high-severity findings warns or fails."""
    if policy.bandit_warn_high is None and policy.bandit_fail_high is None:
        return []
    serious = [f for f in result.findings if f.severity.rank >= Severity.HIGH.rank
               and (f.confidence is None or f.confidence.rank >= Severity.MEDIUM.rank)]
    weighted = sum(f.weight for f in serious)
    fail = policy.bandit_fail_high is not None and weighted >= policy.bandit_fail_high
    warn = policy.bandit_warn_high is not None and weighted >= policy.bandit_warn_high
    if not serious or not (fail or warn):
        return []
    first = sorted(serious, key=lambda f: -f.weight)[:3]
    evidence = ", ".join(filter(None, (where(f) for f in first)))
    return [Reason("bandit", Severity.HIGH,
                   f"{len(serious)} high-severity bandit findings (weighted {weighted:g}, policy "
                   f"bandit_{'fail' if fail else 'warn'}_high), e.g. {first[0].rule}",
                   evidence or None, Verdict.FAIL if fail else Verdict.WARN)]


def unchecked_reasons(items: Iterable[tuple[str, CheckResult | Missing, bool]]) -> list[Reason]:
    """One reason per cause for the checks that could not run.

    ``items`` are ``(check, what it gave, required)``. A result that is not ``ok``, or a
    :class:`Missing`, is "could not check"; checks that could not run for the same first cause
    (one failed extraction, say) share one reason. Required checks make it an ``error``;
    informative ones a ``warn``. Never allowable.
    """
    groups: dict[str, tuple[list[str], str, bool]] = {}
    out: list[Reason] = []
    for check, given, required in items:
        if check in INFORMS_ONLY:
            continue
        if isinstance(given, Missing):
            cause, why = (given.root or given.message), given.message
        elif given.status is Status.OK:
            continue
        elif check in _SAYS_IT_ALL and given.reason:  # already one line with its fix
            out.append(Reason(check, Severity.HIGH if required else Severity.LOW, given.reason,
                              None, Verdict.ERROR if required else Verdict.WARN, allowable=False))
            continue
        else:
            why = f"{given.status.value}: {given.reason or 'no reason given'}"
            cause = f"{check}\0{why}"
        names, _, req = groups.setdefault(cause, ([], why, False))
        names.append(check)
        groups[cause] = (names, why, req or required)
    for names, why, required in groups.values():
        subject = ", ".join(names)
        out.append(Reason(names[0], Severity.HIGH if required else Severity.LOW,
                          f"{subject} could not check this release ({why})", None,
                          Verdict.ERROR if required else Verdict.WARN, allowable=False))
    return out


def advisory_reasons(advisories: Sequence[Advisory], policy: Policy) -> list[Reason]:
    out = []
    for a in advisories:
        severity = a.severity or Severity.HIGH  # most OSV PyPI advisories carry none
        fixed = ", ".join(a.fixed_versions) or "no fixed version known"
        aliases = ", ".join(sorted(a.aliases - {a.id}))
        evidence = f"{a.id}" + (f" ({aliases})" if aliases else "") + f"; fixed in: {fixed}"
        verdict = Verdict.FAIL if severity.rank >= policy.advisory_fail.rank else Verdict.WARN
        out.append(Reason("advisories", severity, f"{a.id}: {a.summary or 'known vulnerability'}",
                          evidence, verdict))
    return out


def staleness_reasons(answers: Sequence[AdvisoryAnswer], policy: Policy,
                      now: datetime | None = None) -> list[Reason]:
    """Information: the advisory data this package's check rested on is older than
    ``advisory_max_age_days``. The *freshest* source that vouched counts (an old store does
    not matter where a live service answered too).

    Said as information on each package (the CLI prints it once per run, for the oldest):
    old data is a fact about the run's sources, not a risk of one package, so it never warns.
    """
    now = now or datetime.now(timezone.utc)
    times = [a.data_time if a.data_time.tzinfo else a.data_time.replace(tzinfo=timezone.utc)
             for a in answers if a.status is Status.OK and a.data_time is not None]
    if not times:
        return []
    days = (now - max(times)).days
    if days <= policy.advisory_max_age_days:
        return []
    return [Reason(STALE_DATA_CHECK, Severity.INFO,
                   f"advisory data is {days} days old (policy advisory_max_age_days = "
                   f"{policy.advisory_max_age_days}): refresh it with `shouldi db update`",
                   None, Verdict.PASS)]


def risk_reasons(risk: RiskScore | None, policy: Policy) -> list[Reason]:
    if risk is None or policy.max_risk_score is None or risk.score < policy.max_risk_score:
        return []
    return [Reason("risk", Severity.HIGH,
                   f"risk score {risk.score:.0f} is at or above {policy.max_risk_score:g}",
                   ", ".join(risk.top_features) or None, Verdict.FAIL)]


# --- dependency trees --------------------------------------------------------------------------
def tree_node_reasons(known: bool, detail: str, warnings: Sequence[str] = (),
                      notes: Sequence[str] = ()) -> list[Reason]:
    """Reasons about one node of a dependency tree, from what its file says it depends on.

    - dependencies unknown (an sdist whose metadata leaves them to the build): **warn**,
      never allowable. The packages it would pull in are not judged, and only running its
      build (package code) would tell which they are; the scan never runs it. Not ``error``:
      the package itself was checked, and its own verdict stands;
    - a requirement that could not be followed (unparseable, a direct URL, dynamic optional
      dependencies): **warn**, never allowable, for the same reason;
    - notes that leave nothing out (an extra the release does not have: pip too only warns):
      information.
    """
    out = []
    if not known:
        out.append(Reason(DEPENDENCIES_CHECK, Severity.MEDIUM,
                          f"{detail}: what it would install is not judged", None, Verdict.WARN,
                          allowable=False))
    out += [Reason(DEPENDENCIES_CHECK, Severity.MEDIUM, w, None, Verdict.WARN, allowable=False)
            for w in warnings]
    out += [Reason(DEPENDENCIES_CHECK, Severity.INFO, n, None, Verdict.PASS) for n in notes]
    return out


def dependency_verdict_reasons(dependencies: Sequence[tuple[str, Verdict, Reason | None]]
                               ) -> list[Reason]:
    """What the packages below a node make of it: ``(who, verdict, its first counted reason)``
    for each package it pulls in, directly or not (``who`` as "evil 1.0 (through mid 2.0)").

    Installing a package installs its dependencies, so a dependency that **fails** fails it
    ("depends on evil 1.0, which fails"), with the dependency's evidence; one that could not
    be checked makes it **error** (never allowable: an allowlist never covers "could not
    check"). Warnings stay on the dependency itself: each package's own line says them.
    """
    out = []
    for who, verdict, first in dependencies:
        evidence = None
        if first is not None:
            evidence = f"{first.check}: {first.message}" + (f" [{first.evidence}]" if first.evidence else "")
        if verdict is Verdict.FAIL:
            out.append(Reason(DEPENDENCIES_CHECK, Severity.HIGH, f"depends on {who}, which fails",
                              evidence, Verdict.FAIL))
        elif verdict is Verdict.ERROR:
            out.append(Reason(DEPENDENCIES_CHECK, Severity.HIGH,
                              f"depends on {who}, which could not be fully checked", evidence,
                              Verdict.ERROR, allowable=False))
    return out


def unresolved_tree_reason(why: str) -> Reason:
    """The tree below a package could not be resolved (the index could not be asked, ...):
    its dependencies are not judged, so **error**, never allowable."""
    return Reason(DEPENDENCIES_CHECK, Severity.HIGH,
                  f"its dependencies were not judged: the dependency tree could not be resolved ({why})",
                  None, Verdict.ERROR, allowable=False)


def not_pinned_reason(requirement: str, found: str, source: str, where: str | None) -> Reason:
    """A hashed requirements file (every line ``==`` with ``--hash``) lacks a dependency of one
    of its packages: **warn** on the package that needs it. ``pip install --require-hashes``
    refuses such a file, and with ``--no-deps`` the package would be installed broken."""
    return Reason(DEPENDENCIES_CHECK, Severity.MEDIUM,
                  f"needs {requirement!r}, which {source} does not pin with a hash ({found} would "
                  "be installed; pip --require-hashes refuses an unpinned dependency)", where,
                  Verdict.WARN)


def required_by_reason(requirer: str, where: str | None) -> Reason:
    """Information: why a package that no input names is judged (``flask 3.0 needs 'click'``)."""
    return Reason(DEPENDENCIES_CHECK, Severity.INFO, f"required: {requirer}", where, Verdict.PASS)
