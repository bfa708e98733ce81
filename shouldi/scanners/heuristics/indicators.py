"""What strings give away: endpoints, credential stores, persistence places, shell commands.

Everything here works on text only (a literal, or what :mod:`.fold` made of an expression),
and a match means nothing by itself: the rules use these labels only where a string meets a
sink that runs (a URL given to a network call at import time, a path written to during the
build). Sources of the lists, besides our own reading of malware reports:

* shady endpoints: chat-service webhooks (Discord, Telegram, Slack), paste sites, anonymous
  file drops, tunnels (ngrok, trycloudflare, localhost.run...), request catchers/OAST
  (webhook.site, pipedream, interactsh, Burp Collaborator), URL shorteners, ``.onion``,
  "what is my IP" services, free hosting that campaigns used (``herokuapp.com`` for "ctx"),
  raw public IPs and a few throw-away TLDs; guarddog's ``shady-links`` and
  ``threat-network-exfil-messenger`` rules list most of them. Private, loopback, link-local
  and documentation addresses and the public resolvers 1.1.1.1/8.8.8.8 are not shady.
* credential stores: SSH/GPG keys, cloud and registry credentials, ``.netrc``/``.pypirc``/
  ``.git-credentials``, shell histories, ``/etc/passwd``/``/etc/shadow``, browser profile
  databases (``Login Data``, ``Cookies``, ``logins.json``, ``key4.db``), Discord/Telegram
  local storage and crypto wallets (guarddog ``threat-filesystem-read``, the W4SP, Noblesse
  and torchtriton reports).
* persistence: shell rc files, ``/etc/profile.d``, ``rc.local``, init.d, cron, systemd units,
  XDG autostart, LaunchAgents/Daemons, the Windows Startup folder and ``Run`` keys, ``.pth``
  and ``sitecustomize`` files (guarddog ``threat-filesystem-autostart``); and code that other
  programs run, which malware plants to come back: ``~/.ssh/authorized_keys`` (a way in),
  git hooks (``.git/hooks/``, a ``core.hooksPath`` set globally), the JavaScript of Electron
  apps (Discord's ``discord_desktop_core/index.js``, ``app.asar``, ``resources/app``: the
  "Discord injection" of W4SP and its kin). Installed packages' directories
  (``site-packages``) get their own label: a write there is tampering with another package.
* ``.env`` files (dotenv) hold an application's secrets: a credential store like the others.
* shell commands: download-and-run (``curl | sh``, PowerShell ``iwr``/``DownloadString``,
  ``certutil -urlcache``, ``bitsadmin``, ``mshta``), exfiltration (``curl -d``, DNS look-ups of
  ``$(...)``), reverse shells (``/dev/tcp``, ``nc -e``), detaching (``nohup``, a trailing ``&``,
  hidden PowerShell windows), persistence (``crontab``, ``schtasks /create``, ``reg add ...
  \\Run``) and miners (``xmrig``, ``stratum+tcp``).
"""

from __future__ import annotations

import functools
import ipaddress
import re

__all__ = [
    "BIDI_CONTROLS",
    "CREDENTIAL_PATH",
    "FINGERPRINT_ENV",
    "SECRET_ENV",
    "SHADY_ENDPOINTS",
    "THROWAWAY_TLDS",
    "Label",
    "command_kinds",
    "persistence_path",
    "shady_endpoint",
    "string_labels",
    "vcs_query",
]


class Label:
    """What a value is known to carry: the visitor's taint labels, bit flags in an ``int``
    (plain ints, not an ``IntFlag``: they are combined for every expression visited)."""

    DECODED = 1  # decoded, decompressed or de-obfuscated at run time
    DOWNLOADED = 2  # read from the network
    SECRET = 4  # secrets: credential files, secret variables, the whole environment, clipboard
    FINGERPRINT = 8  # who and where: user name, host name, working directory
    OUTSIDE = 16  # a path outside the package: absolute, home, site-packages
    PERSIST = 32  # a path or command that makes something run again later
    DROPPED = 64  # a file written from decoded or downloaded data
    SHADY = 128  # a shady endpoint
    CREDPATH = 256  # a path to a credential store
    NETOBJ = 512  # a socket, session or connection object
    HOME = 1024  # a path under the user's home (a subset of OUTSIDE)
    SITE = 2048  # a path in the interpreter's installed packages (site-packages, a module's dir)


#: Environment variable names that hold secrets.
SECRET_ENV = re.compile(
    r"TOKEN|SECRET|PASSW(OR)?D|CREDENTIAL|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|(^|_)KEY($|_)"
    r"|^AWS_|^AZURE_|^GCP_|^GOOGLE_APPLICATION|^TWINE_|^PYPI_|^NPM_|_AUTH$",
    re.IGNORECASE,
)
#: Environment variables naming the user or the machine.
FINGERPRINT_ENV = re.compile(r"^(USER|USERNAME|LOGNAME|COMPUTERNAME|HOSTNAME|USERDOMAIN)$")

_SEP = r"[/\\]+"
CREDENTIAL_PATH = re.compile(
    rf"\.ssh({_SEP}|$)|\bid_(rsa|dsa|ecdsa|ed25519)\b|\.aws{_SEP}(credentials|config)"
    rf"|\.azure{_SEP}|\.config{_SEP}gcloud|\.pypirc|\.netrc|\.git-credentials|\.gitconfig\b"
    rf"|\.docker{_SEP}config\.json|\.kube{_SEP}config|\.gnupg|\.npmrc|\.(bash|zsh)_history"
    r"|^/etc/(passwd|shadow)$|Login Data|Web Data|Local State|(^|[/\\])Cookies$|cookies\.sqlite"
    rf"|logins\.json|key[34]\.db|Local Storage{_SEP}leveldb|Telegram Desktop|tdata\b"
    rf"|wallet\.dat|Exodus|Electrum|MetaMask|nkbihfbeogaeaoehlefnkodbefgpgknn"
    rf"|Ethereum{_SEP}keystore|User Data{_SEP}Default|\.mozilla{_SEP}firefox"
    rf"|Mozilla{_SEP}Firefox|Keychains|discord({_SEP}|$)|(^|[/\\])\.env"
    r"(?!\.(example|sample|template|dist|defaults?)$)(\.[\w-]+)?$",
    re.IGNORECASE,
)

_PERSIST = re.compile(
    rf"(^|[/\\~])\.(bashrc|bash_profile|bash_login|zshrc|zprofile|zshenv|profile|cshrc|tcshrc)$"
    rf"|\.config{_SEP}fish{_SEP}config\.fish|^/etc/(profile(\.d)?|rc\.local|bash\.bashrc|environment)"
    rf"|^/etc/init\.d|^/etc/cron|/var/spool/cron|\.config{_SEP}autostart|systemd{_SEP}user"
    rf"|^/etc/systemd|^/lib/systemd|Library{_SEP}Launch(Agents|Daemons)"
    rf"|Start Menu{_SEP}Programs{_SEP}Startup|CurrentVersion{_SEP}Run(Once)?\b|Winlogon"
    r"|\.pth$|(^|[/\\])(sitecustomize|usercustomize)\.py$"
    # code other programs run: SSH logins, git hooks, Electron apps (Discord's core module)
    rf"|(^|[/\\])authorized_keys2?$|(^|[/\\])\.?git{_SEP}hooks({_SEP}|$)"
    rf"|discord_desktop_core|app\.asar\b|resources{_SEP}app({_SEP}|$)",
    re.IGNORECASE,
)
#: The installed packages' directories: a write there changes code another package runs.
_SITE = re.compile(r"(^|[/\\])(site|dist)-packages([/\\]|$)", re.IGNORECASE)

#: Endpoints code has little reason to talk to and malware uses, by kind: each is matched
#: anywhere in a string, case-insensitively (the tests check every entry, and that the hints
#: below let each one through).
SHADY_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "chat services used as drop boxes and command channels": (
        "discord.com/api/webhooks", "discordapp.com/api/webhooks", "api.telegram.org",
        "hooks.slack.com", "cdn.discordapp.com/attachments", "media.discordapp.net/attachments"),
    "paste sites and anonymous file drops": (
        "pastebin.com", "paste.ee", "hastebin", "ghostbin", "rentry.co", "rentry.org",
        "termbin.com", "dpaste", "controlc.com", "paste.rs", "privatebin", "justpaste.it",
        "pastie.org", "transfer.sh", "file.io", "anonfiles", "gofile.io", "catbox.moe",
        "filetransfer.io", "sendspace.com", "temp.sh", "bashupload", "oshi.at", "uguu.se",
        "pixeldrain"),
    "tunnels": (
        "ngrok.io", "ngrok-free.app", "ngrok.app", "trycloudflare.com", "serveo.net",
        "localhost.run", "loca.lt", "localtunnel.me", "pagekite.me", "bore.pub", "playit.gg",
        "portmap.io"),
    "request catchers, out-of-band testing": (
        "webhook.site", "requestbin", "pipedream.net", "burpcollaborator", "oastify.com",
        "interact.sh", "interactsh", "oast.pro", "oast.live", "oast.site", "oast.online",
        "oast.fun", "oast.me", "canarytokens", "dnslog.cn", "ceye.io", "beeceptor.com",
        "hookbin.com", "requestcatcher.com", "postb.in"),
    "URL shorteners": (
        "bit.ly", "tinyurl.com", "is.gd", "cutt.ly", "rb.gy", "shorturl.at", "goo.gl", "ow.ly",
        "rebrand.ly", "tiny.cc", "v.gd"),
    '"what is my IP": reconnaissance': (
        "api.ipify.org", "ipinfo.io", "ip-api.com", "ifconfig.me", "icanhazip.com",
        "checkip.amazonaws", "ipecho.net", "myexternalip.com", "wtfismyip.com", "api.myip.com",
        "ident.me"),
    "free hosting seen in campaigns": (
        "herokuapp.com", "glitch.me", "repl.co", "000webhostapp.com", "workers.dev"),
}
#: Top-level domains given away free or for pennies, and so used for throw-away hosts.
THROWAWAY_TLDS = ("tk", "ml", "ga", "cf", "gq", "xyz", "top", "pw", "icu", "cfd", "sbs", "click",
                  "rest", "buzz", "monster", "cyou")
#: Lower-case words one of which each pattern above needs: the big alternations are slow,
#: and almost every literal in real code contains none of these.
_CREDENTIAL_HINTS = (".ssh", "id_", ".aws", ".azure", "gcloud", "pypirc", "netrc", "git-cred",
                     "gitconfig", ".docker", ".kube", "gnupg", "npmrc", "_history", "/etc/",
                     "login data", "web data", "local state", "cookies", "logins", "key3",
                     "key4", "local storage",
                     "telegram", "tdata", "wallet", "exodus", "electrum", "metamask", "nkbih",
                     "keystore", "user data", "firefox", "keychains", "discord", ".env")
_PERSIST_ENDS = ("rc", "profile", "login", "zshenv", ".pth", "customize.py", "config.fish")
_PERSIST_HINTS = ("/etc/", "cron", "autostart", "systemd", "launchagents", "launchdaemons",
                  "startup", "currentversion", "winlogon", "authorized_keys", "hooks",
                  "discord_desktop_core", "app.asar", "resources")
_SHADY_HINTS = ("discord", "telegram", "slack", "paste", "pastie", "hastebin", "ghostbin", "termbin",
                "privatebin", "requestbin", "hookbin", "rentry", "controlc",
                "justpaste", "transfer.sh", "file.io", "anonfiles", "gofile", "catbox",
                "filetransfer", "sendspace", "temp.sh", "bashupload", "oshi.at", "uguu",
                "pixeldrain", "ngrok", "trycloudflare", "serveo", "localhost.run", "loca.lt",
                "localtunnel", "pagekite", "bore.pub", "playit", "portmap", "webhook",
                "pipedream", "burpcollaborator", "oastify", "interact", "oast.", "canarytokens",
                "dnslog", "ceye", "beeceptor", "requestcatcher", "postb.in", "bit.ly", "tinyurl",
                "is.gd", "cutt.ly", "rb.gy", "shorturl", "goo.gl", "ow.ly", "rebrand.ly",
                "tiny.cc", "v.gd", "ipify", "ipinfo", "ip-api", "ifconfig", "icanhazip",
                "checkip", "ipecho", "myexternalip", "wtfismyip", "myip", "ident.me",
                "herokuapp", "glitch.me", "repl.co", "000webhost", "workers.dev")
_URL_HOST = re.compile(r"(?:https?|ftp|wss?|tcp)://([^/\s:?#'\"]+)", re.IGNORECASE)
_SHADY = re.compile("|".join(re.escape(e) for kind in SHADY_ENDPOINTS.values() for e in kind),
                    re.IGNORECASE)
_ONION = re.compile(r"\b[a-z2-7]{16,56}\.onion\b", re.IGNORECASE)
_SHADY_TLD = re.compile(rf"\.({'|'.join(THROWAWAY_TLDS)})$", re.IGNORECASE)
_BARE_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_BENIGN_IPS = frozenset({"1.1.1.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "1.0.0.1"})

#: Unicode bidirectional overrides/isolates ("Trojan Source", CVE-2021-42574).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


_LOCAL_NETS = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


def public_ip(host: str) -> bool:
    """A literal IP address that is not this machine's or the local network's.

    Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) count as public:
    code that really connects to one is as odd as code connecting to any raw address.
    """
    host = host.strip("[]")
    if host in _BENIGN_IPS:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if (address.is_loopback or address.is_link_local or address.is_multicast
            or address.is_unspecified or address.is_reserved):
        return False
    return not any(address in net for net in _LOCAL_NETS if net.version == address.version)


def shady_endpoint(text: str) -> str | None:
    """Why ``text`` names a shady endpoint (a short reason), or None."""
    if len(text) > 4096:
        text = text[:4096]
    if "." not in text:  # every endpoint above has a dot: a domain or an address
        return None
    return _shady_endpoint(text)


@functools.lru_cache(maxsize=8192)
def _shady_endpoint(text: str) -> str | None:
    lowered = text.lower()
    if any(hint in lowered for hint in _SHADY_HINTS):
        found = _SHADY.search(text)
        if found:
            return found.group(0)
    if ".onion" in lowered and _ONION.search(text):
        return "a Tor .onion address"
    if "://" not in text:
        return f"a raw IP address ({text})" if _BARE_IP.match(text) and public_ip(text) else None
    for match in _URL_HOST.finditer(text):
        host = match.group(1).lower()
        if public_ip(host):
            return f"a raw IP address ({host})"
        if _SHADY_TLD.search(host):
            return f"a throw-away domain ({host})"
    if _BARE_IP.match(text) and public_ip(text):
        return f"a raw IP address ({text})"
    return None


def _maybe_persistence(lowered: str) -> bool:
    return lowered.endswith(_PERSIST_ENDS) or any(h in lowered for h in _PERSIST_HINTS)


def persistence_path(text: str) -> bool:
    return len(text) <= 4096 and _maybe_persistence(text.lower()) and bool(
        _PERSIST.search(text))


_ABSOLUTE = re.compile(r"^(/|~|[A-Za-z]:[\\/]|\\\\|%[A-Z]+%)")
_HOME_TEXT = re.compile(r"^(~|%(USERPROFILE|APPDATA|LOCALAPPDATA|HOMEPATH)%|\$HOME\b|/home/|/Users/"
                        r"|/root\b)", re.IGNORECASE)
_HARMLESS_PATHS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/"})


#: Credential-store words that need no separator to be recognised.
_CREDENTIAL_WORDS = frozenset({"discord", "exodus", "electrum", "metamask", "tdata", "cookies",
                               "keychains", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})
#: Persistence words recognised alone (a path part given to ``os.path.join``).
_PERSIST_WORDS = frozenset({"discord_desktop_core", "authorized_keys", "authorized_keys2"})
_CREDENTIAL_PHRASES = ("Login Data", "Web Data", "Local State", "Local Storage", "User Data",
                       "Telegram Desktop")
_PATH_CHARACTERS = frozenset("/\\.~%:")


def string_labels(text: str) -> int:
    """Labels a string literal carries by itself (paths, endpoints).

    Most literals are names and words: those are answered here, uncached; only strings with
    path characters go through the regular expressions, and only those are remembered (a
    cache of every literal of a large package held megabytes of strings until the scan
    ended)."""
    if len(text) > 4096:
        return 0
    if text.isidentifier():  # most literals: keys, names; only a few words matter
        lowered = text.lower()
        if lowered in _PERSIST_WORDS:
            return Label.PERSIST
        return Label.CREDPATH if lowered in _CREDENTIAL_WORDS else 0
    if not _PATH_CHARACTERS.intersection(text):
        return Label.CREDPATH if any(p in text for p in _CREDENTIAL_PHRASES) else 0
    return _path_labels(text)


@functools.lru_cache(maxsize=8192)
def _path_labels(text: str) -> int:
    labels = 0
    if _ABSOLUTE.match(text) and text not in _HARMLESS_PATHS:
        labels |= Label.OUTSIDE
        if _HOME_TEXT.match(text):
            labels |= Label.HOME
    lowered = text.lower()
    if any(h in lowered for h in _CREDENTIAL_HINTS) and CREDENTIAL_PATH.search(text) and (
            not lowered.startswith(("http://", "https://"))):
        labels |= Label.CREDPATH
    if _maybe_persistence(lowered) and _PERSIST.search(text):
        labels |= Label.PERSIST
    if "-packages" in lowered and _SITE.search(text):
        labels |= Label.SITE
    if shady_endpoint(text):
        labels |= Label.SHADY
    return labels


_COMMANDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("download-exec", re.compile(
        r"\b(curl|wget|fetch)\b[^|;&]*\|\s*(sudo\s+)?((ba|z|da|k)?sh|python[0-9.]*|perl|ruby)\b"
        r"|\b(curl|wget)\b[^;&|]*\s(-o|-O|--output(-document)?)\s*\S+\s*(&&|;)[^;&]*"
        r"(chmod|\./|\bsh\s|\bbash\s|python|start\s)"
        r"|\b(iwr|irm|Invoke-WebRequest|Invoke-RestMethod|DownloadString|DownloadFile"
        r"|DownloadData|Net\.WebClient|Start-BitsTransfer)\b"
        r"|\bcertutil(\.exe)?\s+(-urlcache|-split|-f)|\bbitsadmin(\.exe)?\s+/transfer"
        r"|\bmshta(\.exe)?\s+\S*https?:|\bregsvr32\b.*/i:https?:", re.IGNORECASE)),
    ("exec-decoded-data", re.compile(
        r"\bpowershell(\.exe)?\b.*\s-(e|ec|enc|encodedcommand)\s+[A-Za-z0-9+/=]{16,}"
        r"|\bbase64\s+(-d|--decode)\b[^|]*\|\s*((ba|z)?sh|python[0-9.]*)\b", re.IGNORECASE)),
    ("reverse-shell", re.compile(
        r"/dev/tcp/|\bnc(at)?(\.exe)?\b[^|;]*\s-(e|c)\s|\b(ba)?sh\s+-i\b|\bmkfifo\b.*\bnc\b"
        r"|\bsocat\b.*\bexec:", re.IGNORECASE)),
    ("exfiltration", re.compile(
        r"\b(curl|wget)\b.*(\s-d\s|--data|\s-F\s|--form|\s-T\s|--upload-file|--post-(data|file))"
        r".*(\$\(|`|@|/etc/|\.ssh|\benv\b|printenv|whoami|hostname)"
        r"|\b(nslookup|dig|host|ping)\b[^|;]*(\$\(|`)", re.IGNORECASE)),
    ("persistence", re.compile(
        r"\bcrontab\b|\bschtasks(\.exe)?\s+/create|\breg(\.exe)?\s+add\b.*\\Run\b"
        r"|\bsystemctl\s+--user\s+enable|\blaunchctl\s+load|\bupdate-rc\.d\b"
        r"|>>\s*~?/?\S*\.(bashrc|zshrc|profile|bash_profile)"
        r"|\bgit\b.*\bconfig\b.*\bcore\.hooks[Pp]ath\b|>>\s*~?/?\S*authorized_keys",
        re.IGNORECASE)),
    ("cryptominer", re.compile(
        r"\bxmrig\b|stratum\+(tcp|ssl)|--donate-level|\bcryptonight\b|\bminexmr\b|\bnanopool\b"
        r"|\bmoneroocean\b|\bsupportxmr\b|\bnicehash\b", re.IGNORECASE)),
    ("silent-process", re.compile(
        r"^\s*(nohup|setsid|disown)\b|(^|[^&])&\s*$|\bdisown\b|\bstart\s+(/b|/min)\b"
        r"|-(w|win|windowstyle)\s+h(idden)?\b|\bpythonw(\.exe)?\b", re.IGNORECASE)),
    ("destructive", re.compile(
        r"\brm\s+-[a-z]*r[a-z]*f?[a-z]*\s+(/|~|\$HOME|/\*)(\s|$)|\bdel\s+/[sq]\s+/[sq]\s+[a-z]:\\"
        r"|\bformat\s+[a-z]:", re.IGNORECASE)),
)
_RECON = re.compile(r"^\s*(whoami|hostname|uname|id|ipconfig|ifconfig|systeminfo|net\s+user"
                    r"|cat\s+/etc/passwd|env|printenv|set)\b", re.IGNORECASE)
_SECRET_COMMAND = re.compile(r"\bcat\b.*(\.ssh|\.aws|/etc/shadow|\.netrc|\.pypirc|\.git-cred)",
                             re.IGNORECASE)


#: Read-only queries of a version-control tree, by program: what version-stamping code asks
#: (``git describe``, ``git log -1 --format=%ct``, ``git rev-parse HEAD``, ``hg id``). Not
#: ``git status`` nor ``describe --dirty``: refreshing the index runs the repository's
#: fsmonitor hook. A package that ships a repository of its own (whose config could make any
#: of these run a command) never gets this name (:mod:`.scanner`).
_VCS_QUERIES = {"git": frozenset({"log", "describe", "rev-parse", "rev-list", "show-ref"}),
                "hg": frozenset({"id", "identify", "log", "parents"})}
#: Options that write files, run programs or read another configuration.
_VCS_UNSAFE = ("-c", "--config", "--output", "--exec", "--upload-pack", "--receive-pack", "-p",
               "--patch", "-u", "--ext-diff", "--textconv", "--git-dir", "--work-tree", "-C",
               "-R", "--repository", "--cwd", "--show-signature", "--dirty", "--broken")
_VCS_WORD = re.compile(r"^[A-Za-z0-9_=%:./,+@^~-]+$")


def vcs_query(command: str) -> bool:
    """Whether ``command`` (a folded command line, ``{?}`` where a part did not fold) is a
    constant read-only query of a git or Mercurial tree: no shell syntax, no unsafe option."""
    words = command.split()
    if len(words) < 2 or words[0] not in _VCS_QUERIES or words[1] not in _VCS_QUERIES[words[0]]:
        return False
    return all(_VCS_WORD.match(w) and not w.startswith(_VCS_UNSAFE) for w in words[2:])


@functools.lru_cache(maxsize=4096)
def command_kinds(command: str) -> tuple[str, ...]:
    """The rule ids a shell command line matches (``download-exec``, ``persistence``...)."""
    command = command[:8192]
    return tuple(rule for rule, pattern in _COMMANDS if pattern.search(command))


def command_output(command: str) -> int:
    """What the output of a command carries: fingerprints (``whoami``) or secrets."""
    if _SECRET_COMMAND.search(command):
        return Label.SECRET
    return Label.FINGERPRINT if _RECON.match(command) else 0
