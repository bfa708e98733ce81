"""The JSON bodies of the HTTP API, as pydantic models: FastAPI validates requests with them
and publishes them in ``/openapi.json``.

Requests forbid unknown keys (a misspelt option is an error, not silently ignored) and are
strict (``"all_files": "yes"`` is refused, not guessed). The options are those of ``shouldi
install`` that a remote client may choose; the index, the policy, the caches and the
advisory sources are the server's (a client naming an index would make the server fetch any
URL for it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shouldi.cli.options import MAX_SPEC_LENGTH

__all__ = ["CheckBody", "ErrorBody", "JobBody", "PackagesBody"]


Spec = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SPEC_LENGTH)]


class CheckBody(BaseModel):
    """What to check, and how (``shouldi install``'s options)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    specs: list[Spec] = Field(min_length=1, max_length=100, description="Requirement specs, "
                             "as `shouldi install` takes them: `name`, `name==1.2`, `name>=1,<2`.")
    max_age: float | None = Field(None, ge=0, description="Reuse an answer given less than this "
                                  "many seconds ago (0: ask again; default: the server's).")
    no_deps: bool = Field(False, description="Judge each spec alone, not the packages it would "
                          "pull in (`install --no-deps`). By default, as `shouldi install` does, "
                          "the specs' whole dependency tree is resolved for the target and "
                          "judged: each package says who required it (`required_by`), and a "
                          "package fails when something it pulls in fails.")
    all_files: bool = Field(False, description="Judge every file of each release.")
    python_version: str | None = Field(None, max_length=16,
                                       description="Judge the file pip would install for this Python.")
    platforms: list[str] = Field(default_factory=list, max_length=32)
    implementation: str | None = Field(None, max_length=16)
    abis: list[str] = Field(default_factory=list, max_length=32)
    trace: bool = Field(False, description="Add each answer's trace (every value the flow "
                        "produced, with its provenance), as `--trace` writes it.")


class PackagesBody(BaseModel):
    """The JSON `shouldi install --format json` prints (``traces`` only when asked for)."""

    packages: list[dict[str, Any]]
    notes: list[str]
    traces: list[dict[str, Any]] | None = None


class JobBody(BaseModel):
    """A job: ``queued``, ``running``, ``done`` (with ``result``) or ``failed`` (with ``error``
    and whether submitting the same request again may succeed)."""

    id: str
    state: Literal["queued", "running", "done", "failed"]
    created: float
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    retryable: bool | None = None


class ErrorBody(BaseModel):
    """Every error: one line saying what was wrong."""

    error: str = Field(max_length=MAX_SPEC_LENGTH * 2)
