"""What the heuristics look for, by qualified name, and how call names are resolved.

A call is matched on its *qualified* name: ``import base64 as b; b.b64decode`` and
``from base64 import b64decode as d; d`` both resolve to ``base64.b64decode``;
``__import__("os").system`` and ``importlib.import_module("os").system`` to ``os.system``.
The lists follow the sources and sinks of guarddog's rules (``exec-base64``,
``download-executable``, ``exfiltrate-sensitive-data``, ``clipboard-access``,
``silent-process-execution``, ``threat-runtime-keylogging``...) and the calls seen in public
reports of PyPI malware.
"""

from __future__ import annotations

import ast

from shouldi.scanners.heuristics.fold import DECODE_CALLS

__all__ = [
    "BYTECODE_LOADERS",
    "CHMOD",
    "COPY_MOVE",
    "CREDENTIAL_READERS",
    "DECODERS",
    "DELETE",
    "DYNAMIC_IMPORTS",
    "EXEC_SINKS",
    "FINGERPRINT",
    "HOME_MARKERS",
    "INTERPRETERS",
    "LIBRARY_CONSTRUCTORS",
    "LOOP_CONNECTIONS",
    "NATIVE_LIBRARIES",
    "NATIVE_LOADERS",
    "NATIVE_PROCESS",
    "NATIVE_SPYWARE",
    "NETWORK",
    "NETWORK_CONSTRUCTORS",
    "NETWORK_LIBRARIES",
    "NETWORK_VERBS",
    "OBJECT_NETWORK_METHODS",
    "OPEN",
    "PATH_RUNNERS",
    "PATH_WRAPPERS",
    "PROCESS",
    "PROCESS_OUTPUT",
    "REGISTRY_WRITES",
    "RUNNERS",
    "RUNNER_METHODS",
    "SENSITIVE_CALL_MODULES",
    "SENSITIVE_MODULES",
    "SHELLCODE_APIS",
    "SOURCE_LOADERS",
    "SOURCE_RUNNERS",
    "SOURCE_RUNNER_METHODS",
    "SPYWARE",
    "STEALER_APIS",
    "builtin_sink",
    "dotted",
    "is_constructor",
    "is_network",
    "is_process",
]

#: Calls whose result is decoded, decompressed or unpacked data (``codecs.decode`` only with
#: a non-text codec: the visitor checks).
DECODERS = frozenset({
    *DECODE_CALLS, "marshal.loads", "codecs.decode", "stegano.lsb.reveal", "lsb.reveal",
    "stegano.exifHeader.reveal", "cryptography.fernet.Fernet.decrypt",
})
#: Calls that run code given as data (pickle: unpickling runs ``__reduce__`` callables).
EXEC_SINKS = frozenset({
    "exec", "eval", "compile", "execfile", "builtins.exec", "builtins.eval", "builtins.compile",
    "types.FunctionType", "pickle.loads", "cPickle.loads", "dill.loads", "_pickle.loads",  # safe: names matched in ASTs, never called
})
DYNAMIC_IMPORTS = frozenset({"__import__", "importlib.import_module", "importlib.__import__",
                             "builtins.__import__"})
#: Modules whose name, when hidden (``__import__("o" + "s")``), gives an attack away.
SENSITIVE_MODULES = frozenset({
    "os", "subprocess", "builtins", "socket", "base64", "zlib", "marshal", "ctypes", "requests",
    "urllib", "urllib.request", "http.client", "pty", "shutil", "codecs", "binascii", "pickle",
    "winreg", "_winreg", "platform", "getpass", "sys", "importlib", "httpx", "webbrowser",
})
#: Modules every function of which is worth hiding only for an attacker.
SENSITIVE_CALL_MODULES = frozenset({
    "subprocess", "builtins", "socket", "base64", "zlib", "marshal", "ctypes", "requests",
    "urllib", "http", "pty", "codecs", "binascii", "pickle", "winreg", "_winreg", "httpx",
    "webbrowser", "win32api", "win32crypt",
})
#: Calls that run a function they are given (``atexit.register(f)``, ``Thread(target=f)``).
RUNNERS = frozenset({
    "atexit.register", "threading.Thread", "threading.Timer", "multiprocessing.Process",
    "signal.signal", "sys.settrace", "sys.setprofile", "threading.settrace",
    "threading.setprofile", "_thread.start_new_thread", "thread.start_new_thread",
    "os.register_at_fork", "map", "filter", "asyncio.create_task", "asyncio.ensure_future",
    "sys.addaudithook", "weakref.finalize", "functools.reduce",
})
RUNNER_METHODS = frozenset({
    "submit", "run_in_executor", "call_soon", "call_soon_threadsafe", "call_later", "call_at",
    "apply_async", "start_new_thread",
})

PROCESS = frozenset({
    "subprocess.Popen", "subprocess.run", "subprocess.call", "subprocess.check_call",
    "subprocess.check_output", "subprocess.getoutput", "subprocess.getstatusoutput",
    "os.system", "os.popen", "os.startfile", "os.fork", "os.forkpty", "pty.spawn",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "commands.getoutput",
    "popen2.popen2", "platform.popen", "win32api.ShellExecute", "win32process.CreateProcess",
    "ctypes.windll.shell32.ShellExecuteW", "ctypes.windll.shell32.ShellExecuteA",
    "sh.Command", "plumbum.local",
})
PROCESS_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")
#: Process calls whose return value is the command's output.
PROCESS_OUTPUT = frozenset({"subprocess.check_output", "subprocess.getoutput",
                            "subprocess.getstatusoutput", "os.popen", "commands.getoutput",
                            "subprocess.run"})

#: Calls that connect (constructors listed here connect when given a host).
NETWORK = frozenset({
    "socket.create_connection", "socket.getaddrinfo", "socket.gethostbyname",
    "socket.gethostbyname_ex", "asyncio.open_connection", "urllib.request.urlopen", "urllib.request.urlretrieve",
    "urllib.urlopen", "urllib.urlretrieve", "urllib2.urlopen", "ftplib.FTP", "ftplib.FTP_TLS",
    "smtplib.SMTP", "smtplib.SMTP_SSL", "telnetlib.Telnet", "aiohttp.request",
    "dns.resolver.resolve", "dns.resolver.query", "wget.download", "webbrowser.open",
    "webbrowser.open_new", "webbrowser.open_new_tab",
})
#: Libraries whose listed entry points open connections (matched on the last name part).
NETWORK_LIBRARIES = frozenset({"requests", "httpx", "urllib3", "pycurl", "paramiko",
                               "websocket", "websockets", "aiohttp", "grequests"})
#: ``requests.get``, ``httpx.post``...: module-level functions of those libraries that send.
NETWORK_VERBS = frozenset({
    "get", "post", "put", "delete", "patch", "head", "options", "request", "stream", "urlopen",
    "create_connection", "connect",
})
#: Constructors of those libraries: they return a client, they connect nothing.
LIBRARY_CONSTRUCTORS = frozenset({
    "Session", "session", "Client", "AsyncClient", "PoolManager", "ProxyManager",
    "connection_from_url", "HTTPConnectionPool", "HTTPSConnectionPool", "Curl", "SSHClient",
    "Transport", "ClientSession",
})
#: Calls returning an object whose methods talk to the network.
NETWORK_CONSTRUCTORS = frozenset({
    "socket.socket", "socket.create_connection", "requests.Session", "requests.session",
    "httpx.Client", "httpx.AsyncClient", "urllib3.PoolManager", "http.client.HTTPConnection",
    "http.client.HTTPSConnection", "ftplib.FTP", "ftplib.FTP_TLS", "smtplib.SMTP",
    "smtplib.SMTP_SSL", "aiohttp.ClientSession", "paramiko.SSHClient", "telnetlib.Telnet",
    "websocket.create_connection", "urllib.request.build_opener", "pycurl.Curl",
    "discord_webhook.DiscordWebhook", "dhooks.Webhook", "telebot.TeleBot", "telegram.Bot",
    "httplib.HTTPConnection", "httplib.HTTPSConnection", "xmlrpc.client.ServerProxy",
})
#: Methods that send or receive when called on such an object.
OBJECT_NETWORK_METHODS = frozenset({
    "send", "sendall", "sendto", "connect", "connect_ex", "recv", "recvfrom", "request", "get",
    "post", "put", "patch", "delete", "head", "urlopen", "open", "sendmail", "send_message",
    "storbinary", "storlines", "retrbinary", "exec_command", "getresponse", "upload_file",
    "execute", "send_document", "sendDocument", "sendMessage", "perform",
    "send_file", "add_file",
})

#: Who and where the victim is: sent home by reconnaissance payloads.
FINGERPRINT = frozenset({
    "socket.gethostname", "getpass.getuser", "os.getlogin", "platform.node", "platform.uname",
    "os.uname", "os.getcwd", "uuid.getnode", "socket.getfqdn", "os.getuid",
})
#: Clipboard, keyboard, screen, camera, microphone.
SPYWARE = frozenset({
    "pyperclip.paste", "pyperclip.waitForNewPaste", "pyperclip.waitForPaste",
    "win32clipboard.GetClipboardData", "clipboard.paste", "PIL.ImageGrab.grab",
    "PIL.ImageGrab.grabclipboard", "ImageGrab.grab", "pyautogui.screenshot", "mss.mss",
    "pyscreenshot.grab", "pynput.keyboard.Listener", "keyboard.on_press", "keyboard.hook",
    "keyboard.read_key", "keyboard.record", "keyboard.on_release", "win32api.GetAsyncKeyState",
    "ctypes.windll.user32.GetAsyncKeyState", "cv2.VideoCapture", "sounddevice.rec",
    "pynput.mouse.Listener", "pyxhook.HookManager",
})
#: Calls that only a stealer makes: browser cookie and password decryption.
STEALER_APIS = frozenset({
    "win32crypt.CryptUnprotectData", "ctypes.windll.crypt32.CryptUnprotectData",
    "browser_cookie3.load", "browser_cookie3.chrome", "browser_cookie3.firefox",
    "browser_cookie3.edge", "browser_cookie3.brave", "browser_cookie3.opera",
})
#: Reads of a file, a directory or a database (a credential-store path makes them theft).
CREDENTIAL_READERS = frozenset({
    "open", "io.open", "builtins.open", "codecs.open", "sqlite3.connect", "glob.glob",
    "glob.iglob", "os.listdir", "os.scandir", "os.walk", "shutil.copy", "shutil.copy2",
    "shutil.copyfile", "shutil.copytree", "zipfile.ZipFile.write", "tarfile.TarFile.add",
    "pathlib.Path",
})
SHELLCODE_APIS = frozenset({
    "VirtualAlloc", "VirtualAllocEx", "VirtualProtect", "RtlMoveMemory", "CreateThread",
    "CreateRemoteThread", "WriteProcessMemory", "NtAllocateVirtualMemory", "QueueUserAPC",
    "NtCreateThreadEx", "RtlCopyMemory",
})
NATIVE_LOADERS = frozenset({
    "ctypes.CDLL", "ctypes.cdll.LoadLibrary", "ctypes.WinDLL", "ctypes.windll.LoadLibrary",
    "ctypes.OleDLL", "ctypes.PyDLL", "ctypes.LibraryLoader", "ctypes.oledll.LoadLibrary",
    "cffi.FFI.dlopen", "_ctypes.dlopen", "ctypes.cdll.__getattr__",
})
REGISTRY_WRITES = frozenset({
    "winreg.SetValueEx", "winreg.SetValue", "winreg.CreateKey", "winreg.CreateKeyEx",
    "_winreg.SetValueEx", "_winreg.SetValue", "win32api.RegSetValueEx",
})

OPEN = frozenset({"open", "io.open", "builtins.open", "codecs.open", "os.open"})
COPY_MOVE = frozenset({"shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree",
                       "shutil.move", "os.rename", "os.replace", "os.symlink", "os.link"})
DELETE = frozenset({"shutil.rmtree", "os.remove", "os.unlink", "os.rmdir", "os.removedirs"})
CHMOD = frozenset({"os.chmod", "os.fchmod", "os.lchmod"})
PATH_WRAPPERS = frozenset({"os.path.join", "pathlib.Path", "Path", "pathlib.PurePath",
                           "os.path.abspath", "os.path.normpath", "os.fspath", "str",
                           "os.path.realpath", "pathlib.PosixPath", "pathlib.WindowsPath"})
#: Calls that produce a path in the user's home or the interpreter's own directories.
HOME_MARKERS = frozenset({
    "os.path.expanduser", "pathlib.Path.home", "pathlib.Path.expanduser", "Path.home",
    "os.path.expandvars",
})
#: Calls that produce the interpreter's own directories (temporary directories are not
#: "outside": writing there is what build helpers do).
SYSTEM_MARKERS = frozenset({
    "site.getsitepackages", "site.getusersitepackages", "sysconfig.get_paths",
    "sysconfig.get_path", "distutils.sysconfig.get_python_lib", "sysconfig.get_python_lib",
})


#: Calls that run Python source (or a code object) given as their first argument, like exec.
SOURCE_RUNNERS = frozenset({
    "code.InteractiveInterpreter.runsource", "code.InteractiveInterpreter.runcode",
    "code.InteractiveConsole.runsource", "code.InteractiveConsole.runcode",
    "code.InteractiveConsole.push", "ctypes.pythonapi.PyRun_SimpleString",
    "ctypes.pythonapi.PyRun_SimpleStringFlags", "ctypes.pythonapi.PyRun_String",
})
#: Their methods, and the constructors of the objects they are methods of.
SOURCE_RUNNER_METHODS = frozenset({"runsource", "runcode", "push"})
INTERPRETERS = frozenset({"code.InteractiveInterpreter", "code.InteractiveConsole"})
#: Calls that run (or make importable) the file or directory at a path, by the index of the
#: path argument: the code is whatever that file holds.
PATH_RUNNERS: dict[str, int] = {
    "runpy.run_path": 0, "execfile": 0, "importlib.machinery.SourceFileLoader": 1,
    "importlib.machinery.SourcelessFileLoader": 1, "importlib.machinery.ExtensionFileLoader": 1,
    "importlib.util.spec_from_file_location": 1, "zipimport.zipimporter": 0,
    "imp.load_source": 1, "imp.load_compiled": 1, "imp.load_dynamic": 1, "imp.load_package": 1,
    "sys.path.append": 0, "sys.path.insert": 1, "sys.path.extend": 0, "site.addsitedir": 0,
}
#: Of those, the ones that load compiled bytecode (code that cannot be read), and the ones
#: that load Python source (from whatever file they are given).
BYTECODE_LOADERS = frozenset({"importlib.machinery.SourcelessFileLoader", "imp.load_compiled"})
SOURCE_LOADERS = frozenset({"importlib.machinery.SourceFileLoader", "imp.load_source",
                            "importlib.util.spec_from_file_location", "runpy.run_path",
                            "execfile"})
#: Functions of the C library (or the Windows API) that start a process, called through
#: ``ctypes`` on a loaded library: ``ctypes.CDLL(find_library("c")).system(...)``.
NATIVE_PROCESS = frozenset({
    "system", "popen", "_popen", "_wsystem", "execv", "execve", "execvp", "execvpe", "execl",
    "execle", "execlp", "posix_spawn", "posix_spawnp", "WinExec", "ShellExecuteA",
    "ShellExecuteW", "ShellExecuteExA", "ShellExecuteExW", "CreateProcessA", "CreateProcessW",
})
#: Windows API functions that read the clipboard or the keyboard of the whole session.
NATIVE_SPYWARE = frozenset({
    "GetClipboardData", "GetAsyncKeyState", "SetWindowsHookExA", "SetWindowsHookExW",
    "SetWindowsHookEx",
})
#: Prefixes of a loaded native library's qualified name (``ctypes.windll.user32``).
NATIVE_LIBRARIES = ("ctypes.cdll.", "ctypes.windll.", "ctypes.oledll.", "ctypes.pydll.",
                    "ctypes.pythonapi")
#: Event-loop methods that open a connection (``loop.create_connection(f, host, port)``).
LOOP_CONNECTIONS = frozenset({"create_connection", "open_connection",
                              "create_datagram_endpoint"})


def dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The qualified name of ``node`` (``a.b.c``) through import aliases, or ``None``."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):  # Path.home().joinpath -> still worth a name
        inner = dotted(node.func, aliases)
        if inner is None:
            return None
        first = node.args[0] if node.args else None
        if inner in DYNAMIC_IMPORTS and isinstance(first, ast.Constant) and isinstance(
                first.value, str):
            inner = first.value  # __import__("base64").b64decode is base64.b64decode
        parts.append(inner)
    elif isinstance(node, ast.Name):
        parts.append(aliases.get(node.id, node.id))
    else:
        return None
    return ".".join(reversed(parts))


def builtin_sink(name: str) -> str:
    """``six.moves.builtins.exec``, ``__builtins__.exec`` -> ``exec``; other names unchanged."""
    if "uiltin" not in name:
        return name
    head, _, last = name.rpartition(".")
    if head.endswith(("builtins", "__builtins__", "__builtin__")) and last in {
            "exec", "eval", "compile", "__import__", "open", "getattr"}:
        return last
    return name


def is_process(name: str) -> bool:
    return name in PROCESS or name.startswith(PROCESS_PREFIXES)


def is_network(name: str) -> bool:
    """A call that talks to the network by itself (not a constructor, not ``x.y.get``)."""
    if name in NETWORK:
        return True
    parts = name.split(".")
    if parts[0] not in NETWORK_LIBRARIES or parts[-1] not in NETWORK_VERBS:
        return False
    return len(parts) == 2 or (len(parts) == 3 and parts[1] in ("api", "_api"))


def is_constructor(name: str) -> bool:
    """``requests.Session``, ``socket.socket``...: returns an object whose methods connect."""
    if name in NETWORK_CONSTRUCTORS:
        return True
    parts = name.split(".")
    return parts[0] in NETWORK_LIBRARIES and parts[-1] in LIBRARY_CONSTRUCTORS
