"""Safe extraction: honest archives come out right, hostile ones are refused cleanly.

Every hostile archive is built at test time (tests/hostile_archives.py) next to the
destination ``work/dest``; ``outside`` is where an escaping member would land. After
each refusal the whole tmp tree except ``dest`` must be unchanged and ``dest`` empty.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import hostile_archives as H
import pytest

import shouldi.archive
from shouldi.archive import (
    REFUSAL_KINDS,
    ArchiveError,
    ArchiveRefused,
    ExtractLimits,
    detect_format,
    extract_archive,
)
from shouldi.errors import ShouldiError
from shouldi.results import Severity

MiB = 1 << 20


@pytest.fixture
def layout(tmp_path):
    work, outside = tmp_path / "work", tmp_path / "outside"
    (work / "dest").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (tmp_path / "sentinel.txt").write_text("sentinel")
    return work, outside


def snapshot(top: Path, skip: Path) -> dict[str, tuple]:
    """Every entry under ``top`` (links not followed) with type, size and mode; ``skip`` excluded."""
    seen = {}
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if Path(root, d) != skip]
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            seen[os.path.relpath(os.path.join(root, name), top)] = (st.st_mode, st.st_size)
    return seen


def tree_contents(root: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for path in root.rglob("*"):
        out[path.relative_to(root).as_posix()] = None if path.is_dir() else path.read_bytes()
    return out


HOSTILE = [
    (H.traversal_tar, "traversal"),
    (H.traversal_zip, "traversal"),
    (H.backslash_traversal_zip, "traversal"),
    (H.absolute_tar, "absolute-path"),
    (H.absolute_zip, "absolute-path"),
    (H.drive_zip, "absolute-path"),
    (H.unc_zip, "absolute-path"),
    (H.symlink_out_tar, "link-out"),
    (H.absolute_symlink_tar, "link-out"),
    (H.symlink_then_write_tar, "link-out"),
    (H.inner_symlink_then_write_tar, "duplicate"),
    (H.symlink_out_zip, "link-out"),
    (H.hardlink_out_tar, "link-out"),
    (H.hardlink_traversal_tar, "link-out"),
    (H.char_device_tar, "device"),
    (H.block_device_tar, "device"),
    (H.fifo_tar, "fifo"),
    (H.device_zip, "device"),
    (H.fifo_zip, "fifo"),
    (H.unknown_type_tar, "special"),
    (H.duplicate_tar, "duplicate"),
    (H.file_then_dir_tar, "duplicate"),
    (H.duplicate_zip, "duplicate"),
    (H.pax_header_bomb, "too-large"),
    (H.truncated_tar_gz, "corrupt"),
    (H.truncated_tar_at_header, "corrupt"),
    (H.truncated_zip, "corrupt"),
    (H.garbage_tar_gz, "unknown-format"),
    (H.gzip_not_tar, "unknown-format"),
    (H.encrypted_zip, "encrypted"),
    (H.gzip_bad_crc, "corrupt"),
    (H.gzip_bad_length, "corrupt"),
    (H.gzip_no_trailer, "corrupt"),
    (H.bz2_bad_crc, "corrupt"),
    (H.xz_bad_check, "corrupt"),
    (H.zip_bad_crc, "corrupt"),
    (H.zip_symlink_bad_crc, "corrupt"),
    (H.tar_gz_then_zip, "ambiguous"),
    (H.plain_tar_then_zip, "ambiguous"),
    (H.tar_then_many_zeros, "too-large"),
]


def assert_refused(archive: Path, layout, kind: str, limits: ExtractLimits | None = None):
    work, _ = layout
    top, dest = work.parent, work / "dest"
    before = snapshot(top, dest)
    with pytest.raises(ArchiveRefused) as info:
        extract_archive(archive, dest, limits)
    assert info.value.kind == kind, str(info.value)
    assert info.value.kind in REFUSAL_KINDS
    assert "\n" not in str(info.value)
    assert snapshot(top, dest) == before
    assert list(dest.iterdir()) == []
    return info.value


@pytest.mark.parametrize(("build", "kind"), HOSTILE, ids=[b.__name__ for b, _ in HOSTILE])
def test_hostile_archive_is_refused_and_nothing_stays(layout, build, kind):
    work, outside = layout
    err = assert_refused(build(work, outside), layout, kind)
    assert err.kind == kind and str(err)


# Extracted as pip would, and flagged: (builder, extract kind, ambiguity, severity).
FLAGGED = [
    (H.zip_named_tar_gz, None, "name-mismatch", Severity.MEDIUM),
    (H.plain_tar_named_tar_gz, None, "name-mismatch", Severity.MEDIUM),
    (H.zip_after_junk, "wheel", "zip-prepended", Severity.HIGH),
    (H.zip_after_zip, "wheel", "zip-prepended", Severity.HIGH),
    (H.zip_with_appended_data, "wheel", "zip-appended", Severity.MEDIUM),
    (H.zip_with_unlisted_member, "wheel", "zip-unlisted", Severity.HIGH),
    (H.zip_local_header_lies, "wheel", "zip-header-mismatch", Severity.HIGH),
    (H.zip_symlink_member, "wheel", "zip-type-mismatch", Severity.MEDIUM),
    (H.zip_directory_mode_file, "wheel", "zip-type-mismatch", Severity.MEDIUM),
    (H.tar_case_collision_code, "sdist", "case-collision", Severity.HIGH),
    (H.tar_case_collision_data, "sdist", "case-collision", Severity.MEDIUM),
    (H.tar_unicode_collision, "sdist", "unicode-collision", Severity.HIGH),
    (H.tar_with_trailing_data, "sdist", "tar-trailing-data", Severity.MEDIUM),
    (H.sdist_extra_top_level, "sdist", "sdist-extra-top-level", Severity.HIGH),
    (H.sdist_wrong_top_folder, "sdist", "sdist-top-folder", Severity.MEDIUM),
    (H.sdist_without_top_folder, "sdist", "sdist-no-top-folder", Severity.MEDIUM),
]


@pytest.mark.parametrize(("build", "kind", "ambiguity", "severity"), FLAGGED,
                         ids=[b.__name__ for b, *_ in FLAGGED])
def test_ambiguous_archive_is_flagged_never_a_silent_pass(tmp_path, build, kind, ambiguity,
                                                          severity):
    archive = build(tmp_path)
    dest = tmp_path / "dest"
    dest.mkdir()
    stats = extract_archive(archive, dest, kind=kind)
    assert [(a.kind, a.severity) for a in stats.ambiguities] == [(ambiguity, severity)]
    (found,) = stats.ambiguities
    finding = found.finding()
    assert (finding.check, finding.rule, finding.severity) == ("archive", f"archive-{ambiguity}",
                                                               severity)
    assert finding.message.startswith("installers disagree: ")
    assert "\n" not in finding.message


def test_what_is_extracted_from_an_ambiguous_zip_is_what_pip_installs(tmp_path):
    def extracted(build):
        dest = tmp_path / build.__name__
        dest.mkdir()
        extract_archive(build(tmp_path), dest)
        return tree_contents(dest)

    linked = extracted(H.zip_symlink_member)  # a "symlink" pip writes as a file: scanned
    assert linked["pkg/run.py"] == b"import os\nos.system('id')\n"
    assert not (tmp_path / "zip_symlink_member" / "pkg/run.py").is_symlink()
    assert extracted(H.zip_directory_mode_file)["pkg/tool.py"] == b"print('hi')\n"
    hidden = extracted(H.zip_with_unlisted_member)
    assert sorted(n for n in hidden if n.endswith(".py")) == ["pkg/__init__.py", "pkg/util.py"]
    second = extracted(H.zip_after_zip)  # zipfile reads the last zip, as pip does
    assert "pkg-1.0/setup.py" in second and "pkg/__init__.py" not in second


def test_many_collisions_are_one_finding_with_a_count(tmp_path):
    members = [H.member(f"p/m{i}.py", b"") for i in range(10)]
    members += [H.member(f"p/M{i}.py", b"") for i in range(10)]
    dest = tmp_path / "dest"
    dest.mkdir()
    stats = extract_archive(H.write_tar(tmp_path / "c.tar.gz", members), dest)
    (found,) = stats.ambiguities
    assert (found.kind, found.count, found.member) == ("case-collision", 10, "p/M0.py")
    assert found.message.endswith("(and 7 more)")


@pytest.mark.parametrize(
    "build",
    [lambda w: H.sample_tar(w), lambda w: H.sample_tar(w, "w", "pkg-1.0.tar"),
     lambda w: H.sample_tar(w, "w:bz2", "pkg-1.0.tar.bz2"),
     lambda w: H.sample_tar(w, "w:xz", "pkg-1.0.tar.xz"), lambda w: H.sample_zip(w, "pkg-1.0.zip")],
    ids=["tar.gz", "tar", "tar.bz2", "tar.xz", "zip"],
)
def test_honest_sdists_have_no_ambiguity(tmp_path, build):
    dest = tmp_path / "dest"
    dest.mkdir()
    assert extract_archive(build(tmp_path), dest, kind="sdist").ambiguities == ()


SMALL = ExtractLimits(max_total_size=64 * MiB, max_ratio=1e9)


@pytest.mark.parametrize("bomb", [H.gzip_bomb, H.zip_bomb])
def test_bomb_over_total_size_stops_while_streaming(layout, bomb):
    err = assert_refused(bomb(layout[0], 72 * MiB), layout, "too-large", SMALL)
    assert err.member in ("zeros.bin", None)  # zip refuses on the declared size, before writing


def test_member_over_its_own_limit(layout):
    limits = ExtractLimits(max_member_size=16 * MiB, max_ratio=1e9)
    err = assert_refused(H.gzip_bomb(layout[0], 24 * MiB), layout, "member-too-large", limits)
    assert err.member == "zeros.bin"


@pytest.mark.parametrize("bomb", [H.gzip_bomb, H.zip_bomb])
def test_bomb_trips_ratio_first_with_default_limits(layout, bomb):
    err = assert_refused(bomb(layout[0], 64 * MiB), layout, "ratio")
    assert err.member == "zeros.bin"


def test_zip_with_300k_members_is_refused_before_parsing(layout):
    archive = H.many_members_zip(layout[0], 300_000)
    start = time.perf_counter()
    assert_refused(archive, layout, "too-many-members")
    assert time.perf_counter() - start < 1.0  # zipfile alone needs seconds to parse it


def test_tar_with_300k_members_is_refused_while_iterating(layout):
    archive = H.many_members_tar(layout[0], 300_000)
    err = assert_refused(archive, layout, "too-many-members", ExtractLimits(max_members=1000))
    assert err.kind == "too-many-members"


@pytest.mark.slow
def test_tar_with_300k_members_default_limits(layout):
    err = assert_refused(H.many_members_tar(layout[0], 300_000), layout, "too-many-members")
    assert err.kind == "too-many-members"


def test_many_members_under_the_limit_extract(layout):
    stats = extract_archive(H.many_members_tar(layout[0], 3000), layout[0] / "dest")
    assert (stats.member_count, stats.total_size) == (3000, 0)
    assert len(os.listdir(layout[0] / "dest")) == 3000


# --- honest archives -------------------------------------------------------------------


SAMPLE_SIZE = sum(len(d) for d in H.SAMPLE.values())


@pytest.mark.parametrize(
    ("mode", "fmt"), [("w", "tar"), ("w:gz", "tar.gz"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")]
)
def test_tar_formats_extract_like_tarfile_data_filter(tmp_path, mode, fmt):
    archive = H.sample_tar(tmp_path, mode, "pkg.bin")  # the name says nothing
    assert detect_format(archive) == fmt
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    stats = extract_archive(archive, ours)
    with tarfile.open(archive) as tf:
        tf.extractall(theirs, filter="data")
    assert tree_contents(ours) == tree_contents(theirs)
    assert (ours / "pkg-1.0/pkg/data/blob.bin").read_bytes() == H.SAMPLE["pkg-1.0/pkg/data/blob.bin"]
    assert stats == shouldi.archive.ExtractStats(fmt, 7, SAMPLE_SIZE)


def test_wheel_extracts(tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    stats = extract_archive(H.sample_zip(tmp_path), dest)
    assert tree_contents(dest) == {
        **{n: d for n, d in H.SAMPLE.items()},
        "pkg-1.0": None, "pkg-1.0/pkg": None, "pkg-1.0/pkg/data": None,
    }
    assert stats == shouldi.archive.ExtractStats("zip", 4, SAMPLE_SIZE)


def test_zip_named_tar_gz_is_read_as_zip(tmp_path):
    archive = H.sample_zip(tmp_path, name="pkg-1.0.tar.gz")
    dest = tmp_path / "dest"
    dest.mkdir()
    assert extract_archive(archive, dest).format == "zip"
    assert (dest / "pkg-1.0/setup.py").read_bytes() == H.SAMPLE["pkg-1.0/setup.py"]


def test_modes_owners_and_times_from_the_archive_are_ignored(tmp_path):
    suid, _ = H.member("bin/run", b"#!/bin/sh\n", mode=0o6777)
    suid.uid, suid.gid, suid.mtime = 0, 0, 0
    closed, _ = H.member("locked", type=tarfile.DIRTYPE, mode=0o000)
    inner = H.member("locked/inner.txt", b"readable")
    archive = H.write_tar(tmp_path / "m.tar.gz", [(suid, b"#!/bin/sh\n"), (closed, b""), inner])
    dest = tmp_path / "dest"
    dest.mkdir()
    extract_archive(archive, dest)
    umask = os.umask(0)
    os.umask(umask)
    assert (dest / "bin/run").stat().st_mode & 0o7777 == 0o644 & ~umask
    assert (dest / "locked").stat().st_mode & 0o7777 == 0o755 & ~umask
    assert (dest / "locked/inner.txt").read_bytes() == b"readable"
    assert (dest / "bin/run").stat().st_mtime > time.time() - 600


def test_in_tree_symlink_is_skipped_and_hardlink_copied(tmp_path):
    entries = [
        H.member("pkg/real.py", b"print('hi')\n"),
        H.member("pkg/alias.py", type=tarfile.SYMTYPE, linkname="real.py"),
        H.member("pkg/up", type=tarfile.SYMTYPE, linkname="../pkg/./real.py"),
        H.member("pkg/copy.py", type=tarfile.LNKTYPE, linkname="pkg/real.py"),
    ]
    dest = tmp_path / "dest"
    dest.mkdir()
    stats = extract_archive(H.write_tar(tmp_path / "l.tar.gz", entries), dest)
    assert sorted(os.listdir(dest / "pkg")) == ["copy.py", "real.py"]
    assert not (dest / "pkg/copy.py").is_symlink()
    assert (dest / "pkg/copy.py").read_bytes() == b"print('hi')\n"
    assert os.stat(dest / "pkg/copy.py").st_ino != os.stat(dest / "pkg/real.py").st_ino
    assert (stats.member_count, stats.total_size, stats.skipped_links) == (4, 24, 2)


def test_hardlinks_count_against_the_size_limit(layout):
    big = H.member("big.bin", bytes(600_000))
    links = [H.member(f"c{i}", type=tarfile.LNKTYPE, linkname="big.bin") for i in range(3)]
    archive = H.write_tar(layout[0] / "hl.tar.gz", [big, *links])
    err = assert_refused(archive, layout, "too-large", ExtractLimits(max_total_size=2_000_000))
    assert err.member in {"c0", "c1", "c2"}  # a link's copy is what goes over, not big.bin


needs_gnu_tar = pytest.mark.skipif(
    b"GNU tar" not in subprocess.run(["tar", "--version"], capture_output=True).stdout,
    reason="needs GNU tar to make sparse members",
)


@needs_gnu_tar
def test_gnu_sparse_member_extracts_in_full(tmp_path):
    archive = H.gnu_sparse_tar(tmp_path, 3 * MiB)
    with tarfile.open(archive) as tf:
        assert tf.getmembers()[0].issparse()
    dest = tmp_path / "dest"
    dest.mkdir()
    stats = extract_archive(archive, dest)
    data = (dest / "holey.bin").read_bytes()
    assert (len(data), data[:4], data[-4:]) == (3 * MiB + 4, b"head", b"tail")
    assert stats.total_size == 3 * MiB + 4


@needs_gnu_tar
def test_sparse_bomb_is_counted_by_bytes_written(layout):
    archive = H.gnu_sparse_tar(layout[0], 80 * MiB)
    assert archive.stat().st_size < 64 * 1024
    assert_refused(archive, layout, "too-large", SMALL)


def test_empty_tar_has_no_members(tmp_path):
    archive = tmp_path / "empty.tar"
    archive.write_bytes(bytes(10240))
    dest = tmp_path / "dest"
    dest.mkdir()
    assert extract_archive(archive, dest) == shouldi.archive.ExtractStats("tar", 0, 0)


def test_refusal_message_is_one_line_even_for_a_newline_name(layout):
    archive = H.write_tar(layout[0] / "n.tar", [H.member("../x\ny", b"")], "w")
    err = assert_refused(archive, layout, "traversal")
    assert err.member == "../x\ny"
    assert str(err) == "archive refused [traversal]: member name climbs out with '..' (member '../x\\ny')"


# --- misuse ----------------------------------------------------------------------------


def test_destination_must_exist_and_be_empty(tmp_path):
    archive = H.sample_tar(tmp_path)
    with pytest.raises(ArchiveError, match="unusable extraction directory") as missing:
        extract_archive(archive, tmp_path / "nowhere")
    assert not isinstance(missing.value, ArchiveRefused)
    with pytest.raises(ArchiveError, match="is not empty"):
        extract_archive(archive, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["pkg-1.0.tar.gz"]


def test_a_fifo_or_directory_named_like_an_archive_is_refused_without_blocking(tmp_path):
    import threading

    os.mkfifo(tmp_path / "pkg-1.0.tar.gz")
    (tmp_path / "dir.zip").mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    errors: list[BaseException] = []

    def attempt() -> None:
        for name in ("pkg-1.0.tar.gz", "dir.zip"):
            try:
                extract_archive(tmp_path / name, dest)
            except BaseException as e:  # kept for the assertion
                errors.append(e)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert len(errors) == 2, "blocked opening a FIFO"
    for err in errors:
        assert isinstance(err, ArchiveError) and not isinstance(err, ArchiveRefused)
        assert "not a regular file" in str(err) or "Is a directory" in str(err)


def test_unreadable_archive_is_an_archive_error(tmp_path):
    with pytest.raises(ArchiveError, match="cannot read archive") as info:
        detect_format(tmp_path / "missing.tar.gz")
    assert info.value.exit_code == 3
    assert isinstance(info.value, ShouldiError)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a tar"),
        (b"\x28\xb5\x2f\xfd" + bytes(600), "zstd"),
        (b"PK\x07\x08" + bytes(600), "not a tar"),
        (b"\x1f\x8b\x08garbage", "unreadable gz data"),
    ],
    ids=["empty", "zstd", "spanned-zip", "broken-gzip"],
)
def test_detect_format_refuses_what_it_cannot_read(tmp_path, data, message):
    path = tmp_path / "x.tar.gz"
    path.write_bytes(data)
    with pytest.raises(ArchiveRefused, match=message) as info:
        detect_format(path)
    assert info.value.kind in ("unknown-format", "corrupt")


def test_public_names():
    assert sorted(shouldi.archive.__all__) == sorted(
        n for n in dir(shouldi.archive) if not n.startswith("_") and n not in {
            "ambiguity", "annotations", "errors", "extract", "limits", "scratch"
        }
    )


# --- real artifacts --------------------------------------------------------------------


@pytest.mark.slow
def test_real_sdist_and_wheel_built_by_setuptools(tmp_path):
    """What setuptools really writes (pax headers, dist-info) extracts like tarfile/zipfile do."""
    project = H.sample_tree(tmp_path / "src") / "pkg-1.0"
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "-o", str(tmp_path / "dist"), str(project)],
        check=True, capture_output=True,
    )
    for artifact in (tmp_path / "dist").iterdir():
        ours, theirs = tmp_path / ("ours-" + artifact.name), tmp_path / ("theirs-" + artifact.name)
        ours.mkdir()
        kind = "wheel" if artifact.suffix == ".whl" else "sdist"
        stats = extract_archive(artifact, ours, kind=kind)
        assert stats.ambiguities == (), stats.ambiguities
        if stats.format == "zip":
            with zipfile.ZipFile(artifact) as zf:
                zf.extractall(theirs)
        else:
            with tarfile.open(artifact) as tf:
                tf.extractall(theirs, filter="data")
        assert tree_contents(ours) == tree_contents(theirs)
        assert any(p.name == "__init__.py" for p in ours.rglob("*"))


@pytest.mark.online
def test_real_pypi_sdist(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "six==1.16.0", "-d", str(tmp_path / "dl"), "-q"],
        check=True, capture_output=True,
    )
    (sdist,) = (tmp_path / "dl").iterdir()
    ours = tmp_path / "ours"
    ours.mkdir()
    stats = extract_archive(sdist, ours, kind="sdist")
    assert stats.ambiguities == ()
    with tarfile.open(sdist) as tf:
        tf.extractall(tmp_path / "theirs", filter="data")
        assert stats.member_count == len(tf.getmembers())
    assert tree_contents(ours) == tree_contents(tmp_path / "theirs")
    assert stats.format == "tar.gz"
    assert stats.total_size > 10_000

