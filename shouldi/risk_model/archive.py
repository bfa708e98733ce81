"""The model archive: one portable file (``.zip`` or ``.tar.gz``) that is safe to load.

Members, exactly::

    manifest.json   format + version, versions, feature schema, training data sha256 and size,
                    label definition, estimator config, metrics, threshold, training ranges,
                    and "members": the sha256 and size of every other member
    model.skops     the fitted pipeline, serialised with skops (never pickle or joblib)

Loading is all-or-nothing and refuses (:class:`UnsafeModelError`): hostile archives
(extracted by :func:`shouldi.archive.extract_archive` into a private scratch dir, with small
limits), extra or missing members, links, an unknown format or format version, a member whose
sha256 differs from the manifest, a pickle anywhere, and any type in the skops file that is not
in :data:`TRUSTED_TYPES` (skops' own safe defaults plus this explicit allowlist).

The hashes make tampering with a member detectable; they are not a signature: whoever can
rewrite the manifest can rewrite the hashes. Trust a model file as you trust its source.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from shouldi.archive import (
    ArchiveError,
    ArchiveRefused,
    ExtractLimits,
    extract_archive,
    scratch_dir,
)
from shouldi.risk_model.errors import ModelArchiveError, UnsafeModelError
from shouldi.risk_model.predict import RiskModel

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "MODEL_MEMBER", "TRUSTED_TYPES", "archive_kind",
           "load_model", "read_manifest", "save_model"]

FORMAT = "shouldi-risk-model"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MODEL_MEMBER = "model.skops"
#: Types beyond skops' defaults that our pipelines contain, and nothing else.
TRUSTED_TYPES = frozenset({
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
})
_LIMITS = ExtractLimits(max_total_size=256 << 20, max_members=8, max_member_size=200 << 20,
                        max_ratio=200.0, ratio_floor=4 << 20)
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".dill", ".pt", ".sav")


def archive_kind(path: Path) -> str:
    """``"zip"`` or ``"tar.gz"``, from the file name (the format saved)."""
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    raise ModelArchiveError(f"{path}: a model file must end in .zip or .tar.gz")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def save_model(model: RiskModel, path: Path) -> Path:
    """Write ``model`` to ``path`` atomically (temp file in the same directory + ``os.replace``)."""
    import skops.io

    kind = archive_kind(path)
    blob = skops.io.dumps(model.pipeline)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                **{k: v for k, v in model.manifest.items() if k not in ("format", "format_version", "members")},
                "members": {MODEL_MEMBER: {"sha256": _sha256(blob), "size": len(blob)}}}
    try:
        text = json.dumps(manifest, indent=2, allow_nan=False).encode("utf-8") + b"\n"
    except ValueError as e:  # a NaN or infinite number: refused at save time, never written
        raise ModelArchiveError(f"cannot save {path}: the manifest holds a number that is not finite") from e
    members = ((MANIFEST, text), (MODEL_MEMBER, blob))
    when = datetime.fromisoformat(str(manifest.get("created", "1980-01-01T00:00:00+00:00")))
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise ModelArchiveError(f"cannot write {path}: {e.strerror or e}") from e
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o644)  # mkstemp creates 0600; a model file is meant to be shared
        with os.fdopen(fd, "wb") as f:
            if kind == "zip":
                with zipfile.ZipFile(f, "w") as zf:
                    for name, data in members:
                        info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
                        info.compress_type = zipfile.ZIP_DEFLATED
                        info.external_attr = 0o644 << 16
                        zf.writestr(info, data)
            else:
                with tarfile.open(fileobj=f, mode="w:gz") as tf:
                    for name, data in members:
                        entry = tarfile.TarInfo(name)
                        entry.size, entry.mode, entry.mtime = len(data), 0o644, int(when.timestamp())
                        tf.addfile(entry, io.BytesIO(data))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _members(root: Path, skipped_links: int) -> dict[str, bytes]:
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    pickles = [n for n in names if n.lower().endswith(_PICKLE_SUFFIXES)]
    if pickles:
        raise UnsafeModelError(f"pickle member refused: {pickles[0]!r} (models are skops files only)")
    extra = [n for n in names if n not in (MANIFEST, MODEL_MEMBER)]
    if extra or skipped_links:
        shown = ", ".join(repr(n) for n in extra[:3]) or f"{skipped_links} link(s)"
        raise UnsafeModelError(f"unexpected member(s) in the model archive: {shown}")
    missing = [n for n in (MANIFEST, MODEL_MEMBER) if n not in names]
    if missing:
        raise UnsafeModelError(f"missing member(s): {', '.join(missing)}")
    return {n: (root / n).read_bytes() for n in names}


def _not_finite(constant: str) -> float:
    raise ValueError(f"{constant} is not a JSON number")


def _manifest(data: bytes) -> dict[str, Any]:
    """The manifest, refused when it is not strict JSON: ``NaN``/``Infinity`` (Python's json
    reads them, and a NaN threshold would be echoed back as invalid JSON) or nesting too deep
    for the parser (``RecursionError``)."""
    try:
        manifest = json.loads(data.decode("utf-8"), parse_constant=_not_finite)
    except RecursionError:
        raise UnsafeModelError(f"{MANIFEST} is nested too deeply to be a model manifest") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise UnsafeModelError(f"{MANIFEST} is not JSON ({e})") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UnsafeModelError(f"{MANIFEST} is not a {FORMAT} manifest")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise UnsafeModelError(f"unknown model format version {version!r} (this shouldi reads {FORMAT_VERSION})")
    listed = manifest.get("members")
    if not isinstance(listed, dict) or set(listed) != {MODEL_MEMBER}:
        raise UnsafeModelError(f"{MANIFEST}: 'members' must list exactly {MODEL_MEMBER}")
    return manifest


def _verify(manifest: dict[str, Any], blob: bytes) -> None:
    expected = manifest["members"][MODEL_MEMBER]
    if not isinstance(expected, dict) or _sha256(blob) != expected.get("sha256"):
        raise UnsafeModelError(f"{MODEL_MEMBER} does not match its sha256 in {MANIFEST}: tampered")
    if blob[:1] == b"\x80" or not blob.startswith(b"PK\x03\x04"):
        what = "a pickle" if blob[:1] == b"\x80" else "not a skops file"
        raise UnsafeModelError(f"{MODEL_MEMBER} is {what}: refused")


def read_manifest(path: Path) -> tuple[dict[str, Any], bytes]:
    """The verified manifest and model bytes of the archive at ``path`` (nothing loaded yet)."""
    if not path.is_file():
        raise ModelArchiveError(f"{path}: no such model file")
    with scratch_dir("shouldi-model-") as tmp:
        dest = tmp / "m"
        dest.mkdir()
        try:
            stats = extract_archive(path, dest, _LIMITS)
        except ArchiveRefused as e:
            raise UnsafeModelError(f"{path}: {e}") from e
        except ArchiveError as e:
            raise ModelArchiveError(f"{path}: {e}") from e
        members = _members(dest, stats.skipped_links)
    manifest = _manifest(members[MANIFEST])
    _verify(manifest, members[MODEL_MEMBER])
    return manifest, members[MODEL_MEMBER]


def load_model(path: Path) -> RiskModel:
    """Verify and load a model archive. Raises :class:`ModelArchiveError` (or its subclass)."""
    import skops.io

    manifest, blob = read_manifest(path)
    try:
        untrusted = skops.io.get_untrusted_types(data=blob)
    except Exception as e:  # skops raises assorted errors on malformed files
        raise UnsafeModelError(f"{path}: {MODEL_MEMBER} is not a valid skops file ({e})") from e
    refused = sorted(set(untrusted) - TRUSTED_TYPES)
    if refused:
        raise UnsafeModelError(f"{path}: untrusted type(s) in the model: {', '.join(refused[:5])}")
    try:
        pipeline = skops.io.loads(blob, trusted=list(untrusted))
        if not isinstance(pipeline, Pipeline) or not isinstance(pipeline[-1], CalibratedClassifierCV):
            raise TypeError(f"{MODEL_MEMBER} holds a {type(pipeline).__name__}, not a Pipeline "
                            "ending in a calibrated classifier")
        model = RiskModel(pipeline, manifest, _warnings(manifest))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise UnsafeModelError(f"{path}: malformed model or manifest ({type(e).__name__}: {e})") from e
    if getattr(pipeline, "n_features_in_", None) != len(model.features):
        raise UnsafeModelError(f"{path}: the model does not take the {len(model.features)} features "
                               f"its manifest lists")
    return model


def _warnings(manifest: dict[str, Any]) -> tuple[str, ...]:
    saved = str(manifest.get("versions", {}).get("scikit-learn", "?"))
    if saved.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        return (f"model saved with scikit-learn {saved}, loaded with {sklearn.__version__}: "
                "predictions may differ slightly",)
    return ()
