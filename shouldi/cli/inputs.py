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

Dependency trees (:func:`with_dependencies`, unless ``--no-deps``): what pip would install
from a requirements file or a pyproject.toml is more than what it names, so

- a file that is not fully locked is judged with its transitive closure: its requirements
  are resolved together (:func:`shouldi.plan.plan_tree`) and every node is a target, a
  dependency no input names saying who required it (at the line of the root it came from);
- a fully pinned, hashed file (every line ``==`` with ``--hash``, as ``shouldi lock`` or
  ``pip-compile --generate-hashes`` write) is taken as it is: its files are the ones judged,
  and a dependency of one of its packages that it does not pin is a warning on that package
  (``pip --require-hashes`` would refuse the file);
- ``ci`` judges SPEC arguments with their closure too, as ``shouldi install SPEC`` does (they
  are resolved together, like the lines of one file): a gate on ``ci SPEC`` that passed while
  a dependency fails would be a silent pass. ``scan`` records SPECs as written (a batch of
  exactly these releases, resumable without asking the index again); ``--installed`` is
  judged as it is (an environment already holds its closure).

A node whose dependencies are unknown warns (only running the build would tell). Requirements
that cannot be met together are bad input on the lines involved (exit 2, the chain named);
a tree the index could not give is "could not check" on its roots.
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
from shouldi.resolve.requirer import Requirer
from shouldi.results import Release
from shouldi.settings import Settings
from shouldi.verdict import PackageReport, Reason
from shouldi.verdict.judge import not_checked

__all__ = ["CLOSURE", "Checked", "Inputs", "Target", "check_targets", "gather_inputs", "input_options",
           "with_dependencies"]

#: How a target takes part in a dependency tree: not at all, as a root whose closure is
#: judged, or as a line of a fully pinned, hashed file (taken as it is).
NO_TREE, CLOSURE, LOCKED = "", "closure", "locked"
_NO_DEPS = "shouldi.no_deps"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Target:
    """One declared dependency and how it will be checked."""

    dependency: Dependency
    spec: str | None  # what the flow resolves; None when skipped or excluded
    index_url: str
    skip: str | None = None  # why it cannot be checked (reported as not checked)
    excluded: bool = False  # environment markers are false here: not installed, not checked
    root: str | None = None  # the requirement as a tree root: extras, constraints, markers
    tree: str = NO_TREE  # NO_TREE, CLOSURE or LOCKED
    planned: Release | None = None  # the tree node's release (the file judged)
    required_by: tuple[Requirer, ...] = ()
    tree_reasons: tuple[Reason, ...] = ()  # what the tree says of this package
    tree_error: str | None = None  # the tree cannot be resolved because of this line (exit 2)

    @property
    def label(self) -> str:
        return self.dependency.spec

    @property
    def hashes(self) -> frozenset[str]:
        return frozenset(h.lower() for h in self.dependency.hashes if h.lower().startswith("sha256:"))

    @property
    def request(self) -> Request:
        return Request(self.spec or "", self.hashes, self.index_url, self.planned)

    @property
    def tree_request(self) -> Request:
        """The request of this target as the root of a tree."""
        return Request(self.root or "", self.hashes, self.index_url)


@dataclass(frozen=True)
class Inputs:
    targets: tuple[Target, ...]
    warnings: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()  # every file read (-r/-c includes too): never an output


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
        click.option("--no-deps", is_flag=True, expose_value=False, callback=_remember_no_deps,
                     help="Judge requirements files and pyproject.toml (and, for ci, SPECs) as "
                          "written, without the dependencies they would pull in."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _remember_no_deps(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.meta[_NO_DEPS] = value
    return value


def _target(dep: Dependency, index_url: str, constraints: Sequence[Dependency] = (),
            tree: str = NO_TREE) -> Target:
    req = None if dep.unsupported else dep.requirement
    specifier = SpecifierSet(str(req.specifier)) if req is not None else SpecifierSet()
    for c in constraints:
        if c.requirement is not None:
            specifier &= c.requirement.specifier
    root = None
    if req is not None:
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        root = f"{req.name}{extras}{specifier}" + (f"; {req.marker}" if req.marker else "")
    if dep.marker_excluded:
        return Target(dep, None, index_url, excluded=True, root=root)
    if req is None:
        return Target(dep, None, index_url, skip=dep.unsupported or "not a requirement")
    return Target(dep, f"{req.name}{specifier}", index_url, root=root, tree=tree)


def _locked(deps: Sequence[Dependency]) -> bool:
    """Every line ``==`` with a ``--hash``: a lock, taken as it is."""
    return bool(deps) and all(d.pinned and d.hashes and not d.unsupported and d.requirement
                              for d in deps)


def gather_inputs(ctx: click.Context, specs: Sequence[str], requirements: Sequence[Path],
                  pyproject: Path | None, groups: Sequence[str], all_groups: bool,
                  installed: bool, paths: Sequence[str], index_url: str, *,
                  spec_tree: str = NO_TREE) -> Inputs:
    """Read every input the user named, in order; refuse when there is none. ``spec_tree``:
    how SPEC arguments take part in a tree (``ci``: :data:`CLOSURE`)."""
    if (groups or all_groups) and pyproject is None:
        raise UsageError("--group and --all-groups need --pyproject FILE")
    if not (specs or requirements or pyproject or installed or paths):
        raise UsageError("nothing to check: give SPEC..., -r FILE, --pyproject FILE or --installed")
    source = ctx.get_parameter_source("index_url")
    explicit = source in (click.core.ParameterSource.COMMANDLINE,
                          click.core.ParameterSource.ENVIRONMENT)
    targets: list[Target] = []
    warnings: list[str] = []
    files: list[Path] = [*([pyproject] if pyproject is not None else [])]
    for spec in specs:
        dep = replace(make_dependency(spec, "command line", None), origin_file=None)
        targets.append(_target(dep, index_root(index_url), tree=spec_tree))
    for path in requirements:
        rf = read_requirements(path)
        warnings += rf.warnings
        files += [Path(f) for f in rf.files]
        url = index_url if explicit or not rf.index_url else rf.index_url
        if rf.extra_index_urls:
            warnings.append(f"{path}: --extra-index-url is ignored: only {index_root(url)} is "
                            "searched (extra indexes invite dependency confusion)")
        tree = LOCKED if _locked(rf.dependencies) else CLOSURE
        targets += [_target(d, index_root(url), rf.constraints_for(d), tree) for d in rf.dependencies]
    if pyproject is not None:
        wanted = None if all_groups else list(groups)
        targets += [_target(d, index_root(index_url), tree=CLOSURE)
                    for d in read_pyproject(pyproject, wanted)]
    if installed or paths:
        from shouldi.inputs import installed_distributions

        found = installed_distributions(list(paths) or None)
        targets += [_target(d, index_root(index_url)) for d in found]
    return Inputs(tuple(targets), tuple(warnings), tuple(files))


def check_targets(targets: Sequence[Target], settings: Settings, *,
                  on_answer: Callable[[Answer], None] | None = None, trace: bool = False,
                  recorded: frozenset[tuple[str, str, str]] = frozenset()) -> list[Checked]:
    """Check every checkable target (each distinct request once), in input order.

    ``on_answer`` sees each answer as soon as it is ready; ``recorded`` are releases a resumed
    scan already has (answered as recorded, not checked again).
    """
    requests = [r for t in targets if t.spec is not None for r in _requests(t, settings)]
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
            key = dataclasses.replace(t.request, planned=None)
            checked += [Checked(t, _with_tree(t, a.report), dataclasses.replace(
                a, required_by=t.required_by)) for a in by_request[key]]
    return checked


def _requests(t: Target, settings: Settings) -> list[Request]:
    if t.planned is None or not settings.all_files:
        return [t.request]
    from shouldi.plan import every_file_of

    return [dataclasses.replace(t.request, planned=r)
            for r in every_file_of(t.planned, t.planned.target, t.hashes)]


def _with_tree(t: Target, report: PackageReport) -> PackageReport:
    from shouldi.verdict.judge import with_reasons

    if t.tree_error is not None and report.input_error is None:
        from shouldi.results import Severity
        from shouldi.verdict import Verdict
        from shouldi.verdict.rules import DEPENDENCIES_CHECK

        reason = Reason(DEPENDENCIES_CHECK, Severity.HIGH, t.tree_error, None, Verdict.ERROR,
                        allowable=False)
        return dataclasses.replace(with_reasons(report, [reason]), input_error=t.tree_error)
    return with_reasons(report, t.tree_reasons)


# --- dependency trees ---------------------------------------------------------------------------
def with_dependencies(ctx: click.Context, inputs: Inputs, settings: Settings) -> Inputs:
    """``inputs`` with the trees of its files (see the module doc); as they are with
    ``--no-deps``. Each file's requirements on one index are resolved together."""
    if ctx.meta.get(_NO_DEPS):
        return inputs
    groups: dict[tuple[str, str], list[int]] = {}
    for i, t in enumerate(inputs.targets):
        if t.tree != NO_TREE and t.spec is not None:
            groups.setdefault((t.tree, t.index_url), []).append(i)
    targets = list(inputs.targets)
    extra: list[Target] = []
    warnings = list(inputs.warnings)
    for (kind, index_url), members in groups.items():
        found, added, notes = _tree_of([targets[i] for i in members], kind, index_url, settings)
        for i, t in zip(members, found, strict=True):
            targets[i] = t
        extra += added
        warnings += notes
    return Inputs(tuple(targets + extra), tuple(warnings))


def _tree_of(group: list[Target], kind: str, index_url: str, settings: Settings
             ) -> tuple[list[Target], list[Target], list[str]]:
    """The group's targets with their nodes, the nodes no input names, and notes."""
    import asyncio

    from shouldi.index import parse_spec
    from shouldi.plan import plan_tree
    from shouldi.resolve import Unresolvable
    from shouldi.verdict import rules

    try:
        plan = asyncio.run(plan_tree([t.tree_request for t in group], settings, index_url))
    except Unresolvable as e:
        involved = set(e.roots)
        return [replace(t, tree_error=str(e)) if str(parse_spec(t.root or "")) in involved
                else replace(t, tree_reasons=(rules.unresolved_tree_reason(str(e)),))
                for t in group], [], []
    tree = plan.tree
    if tree is None:
        why = plan.problem or "no tree"
        return [replace(t, tree_reasons=(rules.unresolved_tree_reason(why),)) for t in group], [], []
    nodes = {n.name: n for n in tree.nodes}
    named = {t.dependency.name for t in group}
    out = []
    for t in group:
        node = nodes.get(t.dependency.name or "")
        if node is None:  # its markers exclude the target: judged as it is
            out.append(t)
            continue
        deps = node.dependencies
        reasons = rules.tree_node_reasons(deps.known, deps.detail, node.warnings, node.notes)
        if kind == LOCKED:
            source = t.dependency.origin_file or "the requirements file"
            reasons += [rules.not_pinned_reason(q.requirement, f"{c} {nodes[c].version}", source,
                                                t.dependency.origin)
                        for c in node.depends_on if c not in named
                        for q in nodes[c].required_by[:1]]
        out.append(replace(t, planned=node.release, required_by=node.required_by,
                           tree_reasons=tuple(reasons)))
    added = [] if kind == LOCKED else _unnamed(out, nodes, named, index_url)
    notes = [f"{i!r}: its markers exclude {tree.target}: not judged" for i in tree.ignored]
    return out, added, notes


def _unnamed(roots: list[Target], nodes: dict[str, Any], named: set[str | None], index_url: str
             ) -> list[Target]:
    """A target for each node no input names, located at the root that pulls it in."""
    from packaging.requirements import Requirement

    from shouldi.verdict import rules

    origin: dict[str, Target] = {}
    for root in roots:
        queue = [root.dependency.name or ""]
        while queue:
            name = queue.pop(0)
            for child in nodes[name].depends_on if name in nodes else ():
                if child not in origin and child not in named:
                    origin[child] = root
                    queue.append(child)
    out = []
    for name, node in nodes.items():
        if name not in origin:
            continue
        at = origin[name].dependency
        first = node.required_by[0].requirement if node.required_by else name
        dep = Dependency(first, Requirement(f"{name}=={node.version}"), name, at.origin_file,
                         at.origin_line, group=at.group)
        deps = node.dependencies
        reasons = [rules.required_by_reason("; ".join(str(q) for q in node.required_by), None),
                   *rules.tree_node_reasons(deps.known, deps.detail, node.warnings, node.notes)]
        out.append(Target(dep, f"{name}=={node.version}", index_url, tree=CLOSURE,
                          planned=node.release, required_by=node.required_by,
                          tree_reasons=tuple(reasons)))
    return out
