"""The scikit-learn pipelines a risk model can be: one per estimator name, parameters by name.

Every pipeline is ``compress → impute → [scale] → calibrated classifier``:

- ``compress``: ``arcsinh`` of every feature. The features are counts and ages with long
  tails (lines of code, days); arcsinh is ~log for large values, ~identity near 0, defined
  everywhere and a numpy ufunc, so the archive needs no custom code to load it.
- ``impute``: unknown values (a check that did not run) become the training median, and a
  missing-indicator column per feature that had unknowns says so: "unknown" is information.
- ``scale``: standardisation, for the linear model only (trees do not care).
- ``classify``: :class:`~sklearn.calibration.CalibratedClassifierCV` (sigmoid, 5 folds,
  ``ensemble=False``: one estimator fitted on all rows, so the linear model has one set of
  coefficients to explain), so the probability behind the 0-100 score means what it says.

Everything is seeded: the same data and parameters give the same model. Fitting and
predicting run single-threaded (:func:`single_threaded`): the data is small, and OpenMP/BLAS
thread pools on a machine busy with scans (bandit in worker processes) made a 2-second fit take
more than a minute through oversubscription.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from shouldi.errors import UsageError

__all__ = ["ESTIMATORS", "build_pipeline", "estimator_params", "parse_params", "single_threaded"]

ESTIMATORS = ("logistic", "gradient-boosting", "random-forest")
_NOT_FINITE = frozenset({"nan", "-nan", "inf", "-inf", "+inf", "infinity", "-infinity", "+infinity"})
_SEED = 0


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Limit BLAS and OpenMP (HistGradientBoosting) to one thread inside the block."""
    threadpoolctl = importlib.import_module("threadpoolctl")  # a scikit-learn dependency, untyped

    with threadpoolctl.threadpool_limits(limits=1):
        yield


def _base(name: str) -> ClassifierMixin:
    if name == "logistic":
        return LogisticRegression(C=0.3, max_iter=5000)
    if name == "gradient-boosting":
        return HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=10,
            l2_regularization=1.0, early_stopping=False, random_state=_SEED)
    if name == "random-forest":
        return RandomForestClassifier(n_estimators=200, min_samples_leaf=3, max_features="sqrt",
                                      random_state=_SEED, n_jobs=1)
    raise UsageError(f"unknown estimator {name!r} (use one of: {', '.join(ESTIMATORS)})")


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``["C=0.5", "penalty=l1", "class_weight=null"]`` → values parsed as JSON, else text."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {pair!r}: expected KEY=VALUE")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise UsageError(f"--param {pair!r}: only numbers, true/false, null or text")
        if isinstance(value, float) and not math.isfinite(value):
            raise UsageError(f"--param {pair!r}: the number is not finite")
        if isinstance(value, str) and value.strip().lower() in _NOT_FINITE:
            raise UsageError(f"--param {pair!r}: the number is not finite")
        params[key.strip()] = value
    return params


def estimator_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator's full parameter set with ``params`` applied (unknown keys refused)."""
    base = _base(name)
    known = base.get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise UsageError(f"unknown parameter(s) for {name}: {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(known))})")
    full = {**known, **params}
    return {k: v for k, v in full.items() if isinstance(v, (str, int, float, bool)) or v is None}


def build_pipeline(name: str, params: Mapping[str, Any], *, calibration_folds: int = 5) -> Pipeline:
    """An unfitted pipeline for estimator ``name`` with ``params`` (see the module docstring)."""
    base = _base(name)
    estimator_params(name, params)  # validates the keys
    try:
        base.set_params(**params)
    except (TypeError, ValueError) as e:
        raise UsageError(f"bad parameter for {name}: {e}") from e
    steps: list[tuple[str, Any]] = [
        ("compress", FunctionTransformer(np.arcsinh, feature_names_out="one-to-one")),
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
    ]
    if name == "logistic":
        steps.append(("scale", StandardScaler()))
    steps.append(("classify", CalibratedClassifierCV(base, method="sigmoid", cv=calibration_folds,
                                                     ensemble=False)))
    return Pipeline(steps)
