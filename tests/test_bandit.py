"""Real bandit runs on real sdists built in tmp dirs."""

from __future__ import annotations

import os
from importlib.metadata import version
from pathlib import Path

import pytest
from scanner_trees import sdist_tree, write_tree

from shouldi.results import Severity, Status
from shouldi.scanners import BanditScanner, CodeScanner, ToolFailed
from shouldi.scanners.bandit import _parse, plan_chunks

TOP = "demo-1.0"
EVAL_MODULE = "import subprocess\n\n\ndef run(expr):\n    return eval(expr)\n"


def by_rule(result, rule):
    return [f for f in result.findings if f.rule == rule]


def test_is_a_code_scanner():
    scanner = BanditScanner()
    assert isinstance(scanner, CodeScanner)
    assert scanner.name == "bandit"
    assert scanner.required


def test_finding_fields_and_counts(tmp_path):
    tree = sdist_tree(tmp_path, {"demo/core.py": EVAL_MODULE, "demo/__init__.py": ""})
    result = BanditScanner().scan(tree)
    assert result.status is Status.OK
    assert result.tool_version == version("bandit")
    [b307] = by_rule(result, "B307")
    assert b307.check == "bandit"
    assert b307.file == f"{TOP}/demo/core.py"
    assert b307.line == 5
    assert b307.severity is Severity.MEDIUM
    assert b307.confidence is Severity.HIGH
    assert "literal_eval" in b307.message
    assert b307.weight == 1.0
    [b404] = by_rule(result, "B404")
    assert (b404.line, b404.severity) == (1, Severity.LOW)
    counts = result.counts
    assert counts["medium_high"] == 1
    assert counts["low_high"] == 1
    assert sum(counts[f"{s}_{c}"] for s in ("low", "medium", "high")
               for c in ("low", "medium", "high")) == len(result.findings) == 2
    assert counts["files"] == 2
    assert counts["loc"] == 3
    assert counts["skipped_files"] == 0
    assert counts["nosec"] == 0
    assert result.duration_s is not None
    assert result.duration_s > 0


def test_nosec_is_ignored_and_counted(tmp_path):
    tree = sdist_tree(tmp_path, {"demo/x.py": "eval(input())  # nosec\nexec(input())  # nosec B102\n"})
    result = BanditScanner().scan(tree)
    assert [(f.rule, f.line) for f in result.findings] == [("B307", 1), ("B102", 2)]
    assert result.counts["nosec"] == 2


@pytest.mark.parametrize(
    "config",
    [
        {   # each of these would make bandit skip B307 or the demo/ directory if read
            ".bandit": "[bandit]\nskips: B307\nexclude: demo\nconfigfile: bandit.yaml\n",
            "bandit.yaml": "skips: ['B307']\n",
            "setup.cfg": "[bandit]\nskips = B307\n",
            "pyproject.toml": "[tool.bandit]\nskips = ['B307']\nexclude_dirs = ['demo']\n",
        },
        {"demo/.bandit": "[bandit]\nskips: B307\n"},
    ],
    ids=["top-level-configs", "nested-dot-bandit"],
)
def test_configuration_in_the_tree_is_not_read(tmp_path, config):
    tree = sdist_tree(tmp_path, {"demo/x.py": "eval(input())\n", **config})
    result = BanditScanner().scan(tree)
    assert [f.rule for f in result.findings] == ["B307"]


def test_default_exclusions_do_not_hide_files(tmp_path):
    # bandit's default -x list is substring-matched: CVS, .git, .eggs, __pycache__...
    files = {f"demo/{d}/mod.py": "eval(input())\n" for d in ("CVS", ".git", ".eggs", "x.egg")}
    result = BanditScanner().scan(sdist_tree(tmp_path, files))
    assert sorted(f.file for f in result.findings) == sorted(f"{TOP}/{n}" for n in files)


def test_tree_modules_are_not_imported_by_bandit(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"open({str(marker)!r}, 'w').close()\n"
    # bandit runs with cwd at the tree root: without -I these would shadow real modules
    tree = write_tree(tmp_path / "tree", {"yaml.py": payload, "stevedore.py": payload,
                                          "bandit.py": payload, "pkg/a.py": "eval(input())\n"})
    result = BanditScanner().scan(tree)
    assert result.status is Status.OK
    assert not marker.exists()
    assert "pkg/a.py" in {f.file for f in result.findings}


ASIDE = {p: "eval(input())\n" for p in ("demo/a.py", "tests/t.py", "demo/test/t.py",
                                          "docs/conf.py", "examples/e.py", "bench/test_b.py")}


def test_tests_docs_and_examples_are_left_to_the_heuristics(tmp_path):
    result = BanditScanner().scan(sdist_tree(tmp_path, ASIDE))
    assert result.status is Status.OK
    assert {f.file.removeprefix(f"{TOP}/") for f in result.findings} == {"demo/a.py"}
    assert result.counts["aside_files"] == 5
    assert result.counts["files"] == 6  # every Python file of the tree, read or not
    assert result.reason is not None and "5 test, docs, example or benchmark files" in result.reason
    assert "left to the heuristics" in result.reason


def test_low_weight_in_tests_and_docs_when_bandit_reads_them(tmp_path):
    result = BanditScanner(include_aside=True).scan(sdist_tree(tmp_path, ASIDE))
    weights = {f.file.removeprefix(f"{TOP}/"): f.weight for f in result.findings}
    assert weights == {"demo/a.py": 1.0, "tests/t.py": 0.25, "demo/test/t.py": 0.25,
                       "docs/conf.py": 0.25, "examples/e.py": 0.25,
                       "bench/test_b.py": 1.0}  # the older weights know no benchmarks
    assert result.counts["aside_files"] == 0 and result.reason is None


def test_a_tree_of_tests_only_is_ok_with_nothing_read(tmp_path):
    result = BanditScanner().scan(sdist_tree(tmp_path, {"tests/test_x.py": "eval(input())\n"}))
    assert result.status is Status.OK and result.findings == ()
    assert result.counts["aside_files"] == 1 and result.counts["files"] == 1


def test_unparsable_file_is_a_warning(tmp_path):
    tree = sdist_tree(tmp_path, {"demo/ok.py": "eval(input())\n", "demo/py2.py": "print 'hi'\n"})
    result = BanditScanner().scan(tree)
    assert result.status is Status.OK
    assert result.counts["skipped_files"] == 1
    assert result.warnings == (f"bandit could not scan {TOP}/demo/py2.py: "
                               "syntax error while parsing AST from file",)


def test_nothing_parsable_is_an_error_not_clean(tmp_path):
    result = BanditScanner().scan(sdist_tree(tmp_path, {"demo/py2.py": "print 'hi'\n"}))
    assert result.status is Status.ERROR
    assert result.reason == "bandit could parse none of the 1 Python files"


def test_no_python_files(tmp_path):
    result = BanditScanner().scan(sdist_tree(tmp_path, {"README": "hello\n"}))
    assert result.status is Status.OK
    assert result.reason == "no Python files to scan"
    assert result.findings == ()
    assert result.counts["files"] == 0


def _bandit_children() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"bandit" in cmdline:
            found.append(int(entry.name))
    return found


def test_timeout_is_an_error_and_kills_the_processes(tmp_path):
    files = {f"demo/m{i}.py": EVAL_MODULE * 50 for i in range(20)}
    tree = sdist_tree(tmp_path, files)
    result = BanditScanner(timeout=0.05, workers=2, single_process_below=0).scan(tree)
    assert result.status is Status.ERROR
    assert result.reason == "bandit timed out after 0.05 s"
    assert result.findings == ()
    assert _bandit_children() == []


def test_parallel_chunks_give_the_same_result(tmp_path):
    files = {f"demo/m{i}.py": EVAL_MODULE + "x = 1\n" * i for i in range(6)}
    files["demo/big.py"] = EVAL_MODULE * 30
    files["demo/bad.py"] = "print 'py2'\n"
    tree = sdist_tree(tmp_path, files)
    one = BanditScanner(workers=1).scan(tree)
    two = BanditScanner(workers=2, single_process_below=0).scan(tree)
    assert one.status is two.status is Status.OK
    assert one.findings == two.findings
    assert dict(one.counts) == dict(two.counts)
    assert one.warnings == two.warnings
    assert one.counts["files"] == 8
    assert one.counts["skipped_files"] == 1
    assert one.counts["medium_high"] == 36


def test_plan_chunks_balances_by_size():
    files = [("a.py", 500_000), ("b.py", 300_000), ("c.py", 200_000), ("d.py", 100_000)]
    chunks = plan_chunks(files, workers=2, per_worker=1)
    assert sorted(map(sorted, chunks)) == [["a.py", "d.py"], ["b.py", "c.py"]]


def test_plan_chunks_several_per_worker_largest_first():
    files = [(f"m{i:02d}.py", 10_000 * (i + 1)) for i in range(40)]
    chunks = plan_chunks(files, workers=2, per_worker=3)
    assert len(chunks) == 6
    assert sorted(n for c in chunks for n in c) == sorted(n for n, _ in files)
    size = dict(files)
    loads = [sum(size[n] for n in c) for c in chunks]
    assert loads == sorted(loads, reverse=True)
    assert max(loads) - min(loads) <= max(size.values())


def test_plan_chunks_small_tree_is_one_process():
    files = [(f"{i}.py", 1000) for i in range(50)]
    assert len(plan_chunks(files, workers=8)) == 1


def test_plan_chunks_respects_the_argument_budget():
    files = [(f"pkg/module_{i:04d}.py", 10) for i in range(1000)]  # 20 bytes of argv each
    chunks = plan_chunks(files, workers=1, arg_budget=2_000)
    assert len(chunks) == 10
    assert sorted(n for c in chunks for n in c) == sorted(n for n, _ in files)
    assert all(sum(len(n) + 1 for n in c) <= 2_000 for c in chunks)


def test_bad_exit_code_and_bad_json_are_tool_failures():
    with pytest.raises(ToolFailed, match=r"^bandit exited with code 2: ERROR boom$"):
        _parse(2, b"", b"[main] INFO x\nERROR boom\n")
    with pytest.raises(ToolFailed, match="unreadable JSON"):
        _parse(1, b"{not json", b"")


def _strings(count: int) -> str:
    return "".join(f"    'entry number {i:06d} of a large table',\n" for i in range(count))


def test_large_literal_data_is_not_given_to_bandit_and_is_said(tmp_path):
    """faker's decode/codes.py (a 770 KB tuple) kept one bandit process busy for > 300 s."""
    table = '"""Generated."""\nCODES = (\n' + _strings(3000) + ")\nSIZE: int = 3000\n"
    code = "import subprocess\nsubprocess.call('ls', shell=True)\nCODES = (\n" + _strings(3000) + ")\n"
    tree = sdist_tree(tmp_path, {"demo/table.py": table, "demo/code.py": code, "demo/__init__.py": ""})
    result = BanditScanner().scan(tree)
    assert result.status is Status.OK
    assert result.counts["literal_data_files"] == 1 and result.counts["files"] == 3
    (warning,) = result.warnings
    assert warning.startswith(f"bandit skipped {TOP}/demo/table.py: ") and "literal data" in warning
    # a large module with code in it is bandit's as always
    assert {f.file for f in result.findings} == {f"{TOP}/demo/code.py"}


@pytest.mark.parametrize(("body", "data"), [
    ('"""Doc."""\nA = (1, -2, 3.0, "x", b"y", None, True)\nB = {"k": [1, {2, 3}]}\n', True),
    ("A, B = (1, 2), 'x'\nC: int = 1\n", True),
    ("A = (1, 2)\nB = len(A)\n", False),               # a call
    ("A = f'{1}'\n", False),                            # an f-string runs code
    ("A = {**{}}\n", False),
    ("import os\nA = (1, 2)\n", False),
    ("A: os.PathLike = 'x'\n", False),                  # an annotation evaluated at import
    ("obj.attr = (1, 2)\n", False),                     # an attribute set: code
    ("def f():\n    pass\n", False),
    ("A = (1,\n", False),                               # does not parse: bandit reports it
    # generated tables (idna's uts46data.py): typed containers built from literals
    ('from __future__ import annotations\nfrom array import array\nfrom typing import Final\n'
     'S: array[int] = array("I", (0x0, 0x1))\nT: Final = frozenset({1, 2})\n'
     'U: "dict[str, int]" = dict(a=1)\nV = tuple([1, 2])\nimport array as arr\n'
     'W: tuple[str | None, ...] = ("a", None)\n', True),
    ("from array import array\nS = array('I', X)\n", False),      # a name: not a literal
    ("S = array('I', *(1, 2))\n", False),                        # unpacking
    ("S = open('I', 'w')\n", False),                             # any other call
    ("S = dict(**{'a': 1})\n", False),
    ("from os import path\nA = (1, 2)\n", False),               # an import that runs code
    ("from .array import array\nA = (1, 2)\n", False),          # the package's own module
    ("A: list[os.PathLike] = []\n", False),                      # an attribute in an annotation
    ("A: f()[int] = []\n", False),                               # a call in an annotation
])
def test_what_counts_as_literal_data(tmp_path, body, data):
    from shouldi.scanners.literal_data import LITERAL_DATA_MIN_SIZE, is_literal_data

    path = tmp_path / "m.py"
    path.write_text(body)
    assert is_literal_data(path, LITERAL_DATA_MIN_SIZE) is data
    assert not is_literal_data(path, LITERAL_DATA_MIN_SIZE - 1)  # small: bandit's, whatever it is


def test_literal_data_and_the_heuristics_never_parse_in_two_threads_at_once(tmp_path, monkeypatch):
    """CPython 3.11's AST constructor keeps its recursion depth per interpreter: two threads
    parsing at once can fail a file that parses (``SystemError: AST constructor recursion depth
    mismatch``; it made bleach 5.0.1's bandit check an error in a two-job dataset build). Every
    parse of a scanned file goes through one lock."""
    import ast
    import threading
    import time

    from shouldi.scanners.heuristics import HeuristicsScanner
    from shouldi.scanners.literal_data import LITERAL_DATA_MIN_SIZE, is_literal_data

    inside, most = [0], [0]
    real_parse = ast.parse

    def slow_parse(*args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.01)  # a long parse: the other threads run meanwhile
        try:
            return real_parse(*args, **kwargs)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(ast, "parse", slow_parse)
    data = tmp_path / "table.py"
    data.write_text("TABLE = {\n" + "".join(f"    'k{i}': {i},\n" for i in range(LITERAL_DATA_MIN_SIZE // 10)) + "}\n")
    tree = tmp_path / "pkg"
    tree.mkdir()
    for i in range(5):
        (tree / f"m{i}.py").write_text("import os\nos.getcwd()\n")
    answers: list[object] = []
    threads = [threading.Thread(target=lambda: answers.append(is_literal_data(data, data.stat().st_size)))
               for _ in range(3)]
    threads += [threading.Thread(target=lambda: answers.append(HeuristicsScanner().scan(tree).status))
                for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers.count(True) == 3 and answers.count(Status.OK) == 2
    assert most[0] == 1
