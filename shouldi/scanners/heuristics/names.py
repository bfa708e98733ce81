"""What the heuristics look for, by qualified name, and how call names are resolved.

A call is matched on its *qualified* name: ``import base64 as b; b.b64decode`` and
``from base64 import b64decode as d; d`` both resolve to ``base64.b64decode``.
"""

from __future__ import annotations

import ast
import re

__all__ = [
    "CREDENTIAL_PATH",
    "DECODERS",
    "DYNAMIC_IMPORTS",
    "EXEC_SINKS",
    "HOME_MARKERS",
    "NETWORK",
    "NETWORK_LIBRARIES",
    "NETWORK_VERBS",
    "PROCESS",
    "PROCESS_PREFIXES",
    "SECRET_ENV",
    "dotted",
    "is_network",
    "is_process",
    "may_decode_or_download",
]

#: Calls whose result is decoded, decompressed or unpacked data.
DECODERS = frozenset({
    "base64.b64decode", "base64.b32decode", "base64.b16decode", "base64.b85decode",
    "base64.a85decode", "base64.decodebytes", "base64.decodestring", "base64.urlsafe_b64decode",
    "base64.standard_b64decode", "binascii.unhexlify", "binascii.a2b_base64", "binascii.a2b_hex",
    "zlib.decompress", "gzip.decompress", "bz2.decompress", "lzma.decompress",
    "marshal.loads", "pickle.loads", "codecs.decode", "bytes.fromhex", "bytearray.fromhex",  # safe: names matched in ASTs, never called
})
EXEC_SINKS = frozenset({"exec", "eval", "compile", "builtins.exec", "builtins.eval",
                        "builtins.compile"})
DYNAMIC_IMPORTS = frozenset({"__import__", "importlib.import_module", "importlib.__import__",
                             "builtins.__import__"})

PROCESS = frozenset({
    "subprocess.Popen", "subprocess.run", "subprocess.call", "subprocess.check_call",
    "subprocess.check_output", "subprocess.getoutput", "subprocess.getstatusoutput",
    "os.system", "os.popen", "os.startfile", "os.fork", "os.forkpty", "pty.spawn",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "commands.getoutput",
    "popen2.popen2", "platform.popen",
})
PROCESS_PREFIXES = ("os.exec", "os.spawn", "os.posix_spawn")

NETWORK = frozenset({
    "socket.socket", "socket.create_connection", "socket.socketpair", "socket.getaddrinfo",
    "urllib.request.urlopen", "urllib.request.urlretrieve", "urllib.urlopen", "urllib.urlretrieve", "urllib2.urlopen",
    "http.client.HTTPConnection", "http.client.HTTPSConnection", "ftplib.FTP", "ftplib.FTP_TLS",
    "smtplib.SMTP", "smtplib.SMTP_SSL", "telnetlib.Telnet", "aiohttp.ClientSession",
    "aiohttp.request", "webbrowser.open", "dns.resolver.resolve", "dns.resolver.query",
})
#: Libraries whose listed entry points open connections (matched on the last name part).
NETWORK_LIBRARIES = frozenset({"requests", "httpx", "urllib3", "pycurl", "paramiko",
                               "websocket", "websockets", "aiohttp"})
NETWORK_VERBS = frozenset({
    "get", "post", "put", "delete", "patch", "head", "options", "request", "stream", "urlopen",
    "Session", "session", "Client", "AsyncClient", "PoolManager", "ProxyManager",
    "connection_from_url", "HTTPConnectionPool", "HTTPSConnectionPool", "Curl", "SSHClient",
    "Transport", "create_connection", "connect", "ClientSession",
})

#: Environment variable names that hold secrets.
SECRET_ENV = re.compile(
    r"TOKEN|SECRET|PASSW(OR)?D|CREDENTIAL|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|(^|_)KEY($|_)"
    r"|^AWS_|^AZURE_|^GCP_|^GOOGLE_APPLICATION|^TWINE_|^PYPI_|^NPM_|_AUTH$",
    re.IGNORECASE,
)
#: Paths of credential stores, browsers' profile secrets and crypto wallets.
CREDENTIAL_PATH = re.compile(
    r"\.ssh(/|\\|$)|id_rsa|id_ed25519|\.aws/credentials|\.aws[/\\]config|\.pypirc|\.netrc"
    r"|\.git-credentials|\.docker/config\.json|\.kube/config|\.gnupg|\.config/gcloud"
    r"|Login Data|Local State|[/\\]Cookies\b|cookies\.sqlite|logins\.json|key[34]\.db"
    r"|Local Storage[/\\]leveldb|wallet\.dat|Exodus|Electrum|MetaMask|Ethereum[/\\]keystore"
    r"|/etc/shadow",
)
#: Calls that produce a path in the user's home or the interpreter's own directories.
HOME_MARKERS = frozenset({
    "os.path.expanduser", "os.path.expandvars", "pathlib.Path.home", "pathlib.Path.expanduser",
    "Path.home", "site.getsitepackages", "site.getusersitepackages", "sysconfig.get_paths",
    "sysconfig.get_path", "tempfile.gettempdir",
})


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


def is_process(name: str) -> bool:
    return name in PROCESS or name.startswith(PROCESS_PREFIXES)


def is_network(name: str) -> bool:
    if name in NETWORK:
        return True
    parts = name.split(".")
    return len(parts) > 1 and parts[0] in NETWORK_LIBRARIES and parts[-1] in NETWORK_VERBS


def _source_words() -> tuple[bytes, ...]:
    """Words one of which any source calling a decoder or a network API must contain.

    A call resolves to a qualified name through the file's imports, so the name's root
    module is spelled in the file (``import zlib as z``, ``from urllib.request import``,
    ``__import__("base64")``); ``bytes.fromhex`` has no import, but ``fromhex`` is spelled.
    ``chr`` covers ``"".join(chr(c) for c in ...)``.
    """
    roots = {name.split(".")[0] for name in DECODERS | NETWORK} | NETWORK_LIBRARIES
    roots -= {"bytes", "bytearray"}
    return tuple(sorted(w.encode() for w in roots | {"fromhex", "chr"}))


_SOURCE_WORDS = _source_words()


def may_decode_or_download(source: bytes) -> bool:
    """False only when ``source`` cannot call a decoder or a network API (see
    :func:`_source_words`): then no expression of it is tainted unless a name is."""
    return any(word in source for word in _SOURCE_WORDS)
