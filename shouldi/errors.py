"""The root of shouldi's exception tree.

Each layer has one error base, derived from :class:`ShouldiError`; the CLI catches the
bases and exits with the code the error carries::

    ShouldiError                      exit 3 unless a subclass says otherwise
    ├── UsageError                    exit 2: bad input from the user (spec, file, option)
    │   ├── settings.SettingsError    a setting that is not finite, not http(s), ... (shouldi.settings)
    │   ├── policy.PolicyError        a policy file with unknown or invalid settings
    │   ├── inputs.InputError         a requirements/pyproject file that cannot be read
    │   ├── sources.SourceError       a dataset file that cannot be read or written
    │   ├── gate.GateError            an allowlist or gate option that cannot be used
    │   ├── report.ReportError        scan files or an output the HTML report cannot use
    │   └── service.ServiceConfigError / StateError   `shouldi serve`'s options and state file
    ├── dataflow.DataFlowError        the engine (shouldi.dataflow.errors)
    ├── index.PackageIndexError       talking to a package index (shouldi.index.errors)
    ├── resolve.ResolveError          a tree that cannot be resolved (a conflict: exit 2)
    ├── archive.ArchiveError          refusing or failing to extract an archive (shouldi.archive)
    ├── scanners.ScannerError         a scanner could not run (turned into an ERROR result)
    ├── advisories.AdvisoryError      an advisory source could not be read
    ├── risk_model.ModelError         a model archive or training data that cannot be used
    └── service.ServiceError          the HTTP service: a request it refuses (4xx/5xx JSON)
"""

from __future__ import annotations

__all__ = ["EXIT_BAD_INPUT", "EXIT_ERROR", "EXIT_FAIL", "EXIT_OK", "ShouldiError", "UsageError"]

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
EXIT_ERROR = 3


class ShouldiError(Exception):
    """Base of every error shouldi raises on purpose. ``str(err)`` is one readable line."""

    exit_code: int = EXIT_ERROR


class UsageError(ShouldiError):
    """The user's input is wrong (an unparseable spec, a missing file, an unknown package)."""

    exit_code = EXIT_BAD_INPUT
