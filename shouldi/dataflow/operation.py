"""Operations: plain typed functions declared with :func:`op`.

Inputs come from the parameters' type hints, the output from the return hint (``-> None``
produces nothing). A parameter with a default is optional: it takes its default when nothing
in the flow produces it, or when its producer failed or was skipped. Sync functions run off the
event loop, in a thread (default) or a process (``executor="process"``, for CPU-bound work).

A process operation may say when a call is too small to be worth a worker
(``op(executor="process", here_when=pred)``): ``pred(**kwargs)`` true runs that call in a
thread of this process instead. Starting a spawned worker costs an interpreter and the
imports of the operation's module (~0.5 s of CPU); a scan of a few small files costs less than
that, and no worker is ever started for a run whose calls are all small.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from shouldi.dataflow.definition import Definition, definition_for
from shouldi.dataflow.errors import DefinitionError, OperationError
from shouldi.dataflow.inputs import Missing, _All

__all__ = ["Input", "Operation", "op"]

Executor = Literal["inline", "thread", "process"]
Stage = Literal["processing", "cleanup"]

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Input:
    """One parameter of an operation and the definition that feeds it.

    ``explain``: the hint is ``X | Missing``, so an absent value arrives as a
    :class:`~shouldi.dataflow.inputs.Missing` saying why. ``collect``: the hint is
    ``Annotated[tuple[X, ...], ALL]`` (every value of ``X``, once the context is quiet); with
    both (``Annotated[tuple[X | Missing, ...], ALL]``) every producer of ``X`` that gave
    nothing adds a ``Missing``.
    """

    param: str
    definition: Definition
    optional: bool = False
    default: Any = None
    explain: bool = False
    collect: bool = False


@dataclass(frozen=True, eq=False)
class Operation:
    """A declared operation. Call :meth:`__call__` to run the plain function directly."""

    name: str
    func: Callable[..., Any]
    inputs: tuple[Input, ...]
    output: Definition | None
    conditions: tuple[Definition, ...] = ()
    is_async: bool = False
    executor: Executor = "thread"
    timeout: float | None = None
    retries: int = 0
    retry_on: tuple[type[BaseException], ...] = (Exception,)
    retry_backoff: float = 0.05
    stage: Stage = "processing"
    doc: str = field(default="", compare=False)
    #: For ``executor="process"``: a predicate on the call's keyword arguments; true runs the
    #: call in a thread here (see the module doc). An error in it counts as false.
    here_when: Callable[..., bool] | None = field(default=None, compare=False)

    def runs_here(self, kwargs: dict[str, Any]) -> bool:
        """Whether this call runs in this process (always, unless ``executor="process"``)."""
        if self.executor != "process":
            return True
        if self.here_when is None:
            return False
        try:
            return bool(self.here_when(**kwargs))
        except Exception:  # a predicate that fails only costs the pool
            return False

    @property
    def import_path(self) -> str:
        return f"{self.func.__module__}:{self.func.__qualname__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<Operation {self.name}>"


@overload
def op(func: _F, /) -> Operation: ...
@overload
def op(
    *,
    name: str | None = None,
    conditions: Sequence[Any] = (),
    executor: Executor = "thread",
    timeout: float | None = None,
    retries: int = 0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    retry_backoff: float = 0.05,
    stage: Stage = "processing",
    here_when: Callable[..., bool] | None = None,
) -> Callable[[Callable[..., Any]], Operation]: ...
def op(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    conditions: Sequence[Any] = (),
    executor: Executor = "thread",
    timeout: float | None = None,
    retries: int = 0,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    retry_backoff: float = 0.05,
    stage: Stage = "processing",
    here_when: Callable[..., bool] | None = None,
) -> Operation | Callable[[Callable[..., Any]], Operation]:
    """Declare an operation from a typed function.

    ``conditions`` are hints of boolean definitions: the operation runs only when each is true.
    ``executor`` applies to sync functions ("inline" runs them on the loop: only for trivial work);
    ``here_when`` (process operations only) says which calls are small enough to run here.
    """

    def build(fn: Callable[..., Any]) -> Operation:
        return _build(
            fn,
            name=name,
            conditions=conditions,
            executor=executor,
            timeout=timeout,
            retries=retries,
            retry_on=retry_on,
            retry_backoff=retry_backoff,
            stage=stage,
            here_when=here_when,
        )

    if func is not None:
        return build(func)
    return build


def _build(
    fn: Callable[..., Any],
    *,
    name: str | None,
    conditions: Sequence[Any],
    executor: Executor,
    timeout: float | None,
    retries: int,
    retry_on: tuple[type[BaseException], ...],
    retry_backoff: float,
    stage: Stage,
    here_when: Callable[..., bool] | None = None,
) -> Operation:
    where = f"{fn.__module__}.{fn.__qualname__}"
    if retries < 0 or (timeout is not None and timeout <= 0):
        raise OperationError(f"{where}: retries must be >= 0 and timeout > 0")
    if here_when is not None and executor != "process":
        raise OperationError(f"{where}: here_when applies to executor='process' only")
    if executor == "process" and ("<locals>" in fn.__qualname__ or fn.__module__ == "__main__"):
        raise OperationError(
            f"{where}: executor='process' needs a module-level function in an importable module"
        )
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as e:
        raise OperationError(f"cannot read the type hints of {where}: {e}") from e
    inputs: list[Input] = []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise OperationError(f"{where}: *args/**kwargs cannot be wired; name each input")
        if param.name not in hints:
            raise OperationError(
                f"Missing type hint for parameter {param.name!r} of {where}. Please add one."
            )
        hint, explain, collect = _unwrap(hints[param.name])
        try:
            definition = definition_for(hint)
        except DefinitionError as e:
            raise OperationError(f"parameter {param.name!r} of {where}: {e}") from e
        optional = param.default is not inspect.Parameter.empty
        if (explain or collect) and not optional:
            kind = "X | Missing" if explain else "a collected input"
            raise OperationError(
                f"parameter {param.name!r} of {where} is {kind}: give it a default"
                f" (= {'None' if explain else '()'}) so that it may be absent"
            )
        inputs.append(Input(param.name, definition, optional, param.default if optional else None,
                            explain, collect))
    if "return" not in hints:
        raise OperationError(
            f"Missing return type hint for {where}. Please add one (-> None if it produces nothing)."
        )
    ret = hints["return"]
    output: Definition | None = None
    if ret is not None and ret is not type(None):
        try:
            output = definition_for(ret)
        except DefinitionError as e:
            raise OperationError(f"return type of {where}: {e}") from e
    try:
        conds = tuple(definition_for(c) for c in conditions)
    except DefinitionError as e:
        raise OperationError(f"condition of {where}: {e}") from e
    is_async = inspect.iscoroutinefunction(fn)
    return Operation(
        name=name or fn.__name__,
        func=fn,
        inputs=tuple(inputs),
        output=output,
        conditions=conds,
        is_async=is_async,
        executor=executor,
        timeout=timeout,
        retries=retries,
        retry_on=retry_on,
        retry_backoff=retry_backoff,
        stage=stage,
        doc=inspect.getdoc(fn) or "",
        here_when=here_when,
    )


def _unwrap(hint: Any) -> tuple[Any, bool, bool]:
    """``(definition hint, explain, collect)`` of a parameter's hint (see :class:`Input`)."""
    if typing.get_origin(hint) is typing.Annotated:
        inner, *meta = typing.get_args(hint)
        if any(isinstance(m, _All) for m in meta):
            args = typing.get_args(inner)
            if typing.get_origin(inner) is not tuple or len(args) != 2 or args[1] is not Ellipsis:
                raise OperationError(f"ALL needs Annotated[tuple[X, ...], ALL], not {hint!r}")
            element, explain, _ = _unwrap(args[0])
            return element, explain, True
    args = typing.get_args(hint)
    if args and Missing in args:
        rest = tuple(a for a in args if a is not Missing and a is not type(None))
        if len(rest) == 1:
            return rest[0], True, False
    return hint, False, False


async def call_in_executor(operation: Operation, kwargs: dict[str, Any], process_pool: Any) -> Any:
    """Run a sync operation where it was asked to run (a process operation given no pool runs
    in a thread: see ``here_when``)."""
    if operation.executor == "inline":
        return operation.func(**kwargs)
    loop = asyncio.get_running_loop()
    if operation.executor == "process" and process_pool is not None:
        # The module attribute is the Operation, not the function, so the function cannot be
        # pickled by reference: send its import path and resolve it in the worker.
        call = functools.partial(_call_by_path, operation.import_path, kwargs)
        return await loop.run_in_executor(process_pool, call)
    return await loop.run_in_executor(None, functools.partial(operation.func, **kwargs))


def resolve_import_path(path: str) -> Any:
    """Import ``module:qualname`` and return the object."""
    module_name, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _call_by_path(path: str, kwargs: dict[str, Any]) -> Any:
    target = resolve_import_path(path)
    func = target.func if isinstance(target, Operation) else target
    return func(**kwargs)
