"""What ``scan`` and ``ci`` check: SPEC arguments, requirements files, pyproject.toml, installed.

Every input becomes a :class:`Target`: the dependency as declared (with the file and line it
came from, for messages and SARIF locations), the spec the flow resolves (constraints from
``-c`` files folded in) and the index to resolve it on. A dependency shouldi cannot look up
(an editable checkout, a direct URL) stays a target with a ``skip`` reason, so it is reported
as *not checked*; one whose environment markers are false here is ``excluded`` (pip would not
install it on this interpreter). :func:`check_targets` runs the flow and pairs each target
with its answer.

Index precedence: ``--index-url`` given on the command line (or ``$PIP_INDEX_URL``) wins;
else a requirements file's own ``--index-url``; else the default. Extra indexes are never
searched (that is how dependency confusion happens): a file that names one gets a warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click
from packaging.specifiers import SpecifierSet

from shouldi.api import Answer, Request, answer
from shouldi.errors import UsageError
from shouldi.index.resolver import index_root
from shouldi.inputs import Dependency, read_pyproject, read_requirements
from shouldi.inputs.dependency import make_dependency
from shouldi.settings import Settings
from shouldi.verdict import PackageReport
from shouldi.verdict.judge import not_checked

__all__ = ["Checked", "Inputs", "Target", "check_targets", "gather_inputs", "input_options"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Target:
    """One declared dependency and how it will be checked."""

    dependency: Dependency
    spec: str | None  # what the flow resolves; None when skipped or excluded
    index_url: str
    skip: str | None = None  # why it cannot be checked (reported as not checked)
    excluded: bool = False  # environment markers are false here: not installed, not checked

    @property
    def label(self) -> str:
        return self.dependency.spec

    @property
    def request(self) -> Request:
        hashes = frozenset(h.lower() for h in self.dependency.hashes if h.lower().startswith("sha256:"))
        return Request(self.spec or "", hashes, self.index_url)


@dataclass(frozen=True)
class Inputs:
    targets: tuple[Target, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checked:
    """A target and its report (``None`` only for excluded targets), and the flow's answer."""

    target: Target
    report: PackageReport | None
    answer: Answer | None = None

    @property
    def bad_input(self) -> bool:
        return self.report is not None and self.report.input_error is not None

    @property
    def recorded(self) -> bool:
        return self.answer is not None and self.answer.recorded


def input_options(func: F) -> F:
    """The input options shared by ``scan`` and ``ci`` (SPEC arguments are each command's)."""
    options = [
        click.option("-r", "--requirement", "requirements", multiple=True,
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="A pip requirements file (repeatable; -r/-c includes are followed)."),
        click.option("--pyproject", type=click.Path(dir_okay=False, path_type=Path),
                     help="A pyproject.toml: [project] dependencies, plus --group ones."),
        click.option("--group", "groups", multiple=True, metavar="NAME",
                     help="An optional-dependencies extra or dependency group (repeatable)."),
        click.option("--all-groups", is_flag=True, help="Every extra and dependency group."),
        click.option("--installed", is_flag=True,
                     help="The distributions installed in this environment (like pip freeze)."),
        click.option("--path", "paths", multiple=True, type=click.Path(file_okay=False),
                     help="With --installed: read this site-packages dir instead (repeatable)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _target(dep: Dependency, index_url: str, constraints: Sequence[Dependency] = ()) -> Target:
    if dep.marker_excluded:
        return Target(dep, None, index_url, excluded=True)
    if dep.unsupported or dep.requirement is None:
        return Target(dep, None, index_url, skip=dep.unsupported or "not a requirement")
    specifier = SpecifierSet(str(dep.requirement.specifier))
    for c in constraints:
        if c.requirement is not None:
            specifier &= c.requirement.specifier
    return Target(dep, f"{dep.requirement.name}{specifier}", index_url)


def gather_inputs(ctx: click.Context, specs: Sequence[str], requirements: Sequence[Path],
                  pyproject: Path | None, groups: Sequence[str], all_groups: bool,
                  installed: bool, paths: Sequence[str], index_url: str) -> Inputs:
    """Read every input the user named, in order; refuse when there is none."""
    if (groups or all_groups) and pyproject is None:
        raise UsageError("--group and --all-groups need --pyproject FILE")
    if not (specs or requirements or pyproject or installed or paths):
        raise UsageError("nothing to check: give SPEC..., -r FILE, --pyproject FILE or --installed")
    source = ctx.get_parameter_source("index_url")
    explicit = source in (click.core.ParameterSource.COMMANDLINE,
                          click.core.ParameterSource.ENVIRONMENT)
    targets: list[Target] = []
    warnings: list[str] = []
    for spec in specs:
        dep = replace(make_dependency(spec, "command line", None), origin_file=None)
        targets.append(_target(dep, index_root(index_url)))
    for path in requirements:
        rf = read_requirements(path)
        warnings += rf.warnings
        url = index_url if explicit or not rf.index_url else rf.index_url
        if rf.extra_index_urls:
            warnings.append(f"{path}: --extra-index-url is ignored: only {index_root(url)} is "
                            "searched (extra indexes invite dependency confusion)")
        targets += [_target(d, index_root(url), rf.constraints_for(d)) for d in rf.dependencies]
    if pyproject is not None:
        wanted = None if all_groups else list(groups)
        targets += [_target(d, index_root(index_url)) for d in read_pyproject(pyproject, wanted)]
    if installed or paths:
        from shouldi.inputs import installed_distributions

        found = installed_distributions(list(paths) or None)
        targets += [_target(d, index_root(index_url)) for d in found]
    return Inputs(tuple(targets), tuple(warnings))


def check_targets(targets: Sequence[Target], settings: Settings, *,
                  on_answer: Callable[[Answer], None] | None = None, trace: bool = False,
                  recorded: frozenset[tuple[str, str, str]] = frozenset()) -> list[Checked]:
    """Check every checkable target (each distinct request once), in input order.

    ``on_answer`` sees each answer as soon as it is ready; ``recorded`` are releases a resumed
    scan already has (answered as recorded, not checked again).
    """
    requests = [t.request for t in targets if t.spec is not None]
    answers = answer(requests, settings, trace=trace, on_answer=on_answer, recorded=recorded)
    by_request: dict[Request, list[Answer]] = {}
    for a in answers:  # with --all-files a request has one answer per file
        by_request.setdefault(dataclasses.replace(a.request, planned=None), []).append(a)
    checked = []
    for t in targets:
        if t.excluded:
            checked.append(Checked(t, None))
        elif t.spec is None:
            dep = t.dependency
            report = not_checked(dep.name or dep.spec, dep.spec, t.skip or "not a requirement",
                                 dep.origin)
            checked.append(Checked(t, report))
        else:
            checked += [Checked(t, a.report, a) for a in by_request[t.request]]
    return checked
