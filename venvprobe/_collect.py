"""Collect facts about the running interpreter: the *collect* stage.

This module is the only venvprobe code that runs inside a target interpreter.
``venvprobe report --python X`` sends its source to ``X`` and runs it there,
so it must stay standard-library only, importable on Python 3.8+, and cheap:
its cost is measured against bare interpreter start-up (see benchmarks/).

Rules it keeps:
- it never imports the packages it inspects (it reads metadata and lists
  directories) and never executes ``.pth`` files (it parses them);
- every section is collected on its own: one that fails records its error and
  the rest of the report stands;
- it avoids modules whose import is slow (``json``/``re``, ``zipfile``,
  ``ctypes`` unless the process is embedded), because start-up cost is the
  budget.
"""

import os
import sys

SCHEMA_NAME = "venvprobe.report"
SCHEMA_VERSION = 1

# A directory this large is almost certainly not a package directory someone
# meant to put on sys.path; we stop listing it rather than stall a request.
MAX_DIR_ENTRIES = 200000
MAX_PTH_BYTES = 1 << 20
MAX_METADATA_HEADER_BYTES = 64 * 1024
MAX_RECORD_BYTES = 4 << 20
# What one report may hold, whatever the host has: site.py reads every line
# of every .pth file, but a report listing two million of them helps nobody
# (30 files of 1 MB of short lines made a 599 MB report and killed the
# worker).  Past these caps the collector counts what it skipped and says so
# in ``collector.skipped``.
MAX_PTH_TOTAL_BYTES = 8 << 20
MAX_PTH_LINES = 5000
MAX_RECORD_TOPS = 1000
MAX_NAME_CHARS = 255
MAX_REPORT_BYTES = 64 << 20

# Environment variables worth showing.  Everything else is left out: the
# probe runs in production processes whose environment holds secrets.
_ENV_EXACT = {
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "VIRTUAL_ENV",
    "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYENV_VERSION", "LD_LIBRARY_PATH",
    "GUNICORN_CMD_ARGS", "SERVER_SOFTWARE", "DJANGO_SETTINGS_MODULE",
    "FLASK_APP", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "APACHE_RUN_USER",
    "APACHE_RUN_GROUP", "TMPDIR",
}
_ENV_PREFIXES = ("PYTHON", "LC_", "MOD_WSGI", "UWSGI_", "GUNICORN_", "VENVPROBE_")
_SECRET_WORDS = (
    "PASSWORD", "PASSWD", "PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL",
    "AUTH", "COOKIE", "SESSION", "PRIVATE", "SIGNATURE", "DSN", "APIKEY",
)
_PROCESS_START = None
# Module names mod_wsgi and uWSGI give the WSGI script files they load
# (uWSGI: wsgi-file / mount = /x=file.wsgi).
WSGI_SCRIPT_PREFIXES = ("_mod_wsgi_", "uwsgi_file_")
# {dist-info path: (directory mtime_ns, parsed facts)}; module state is per
# interpreter, so each sub-interpreter keeps its own.
_DIST_INFO_CACHE = {}


# --------------------------------------------------------------------------
# small helpers


def _text(value):
    """Return a str that can always be encoded (paths may be non-UTF-8)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if not isinstance(value, str):
        return repr(value)
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _is_utf8(value):
    try:
        value.encode("utf-8")
        return True
    except (UnicodeEncodeError, AttributeError):
        return False


def _error(exc):
    return {"error": "%s: %s" % (type(exc).__name__, _text(str(exc)))}


_O_READ = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
_FIRST_READ = 64 * 1024


def _read_bytes(path, limit):
    """Read at most *limit* bytes of a file.

    Opened non-blocking, so a FIFO or device named METADATA / RECORD / x.pth
    cannot make the collector hang (it reads as empty, or up to *limit*).
    No fstat: three syscalls per file matter at 2,000 distributions x 3 files.
    """
    fd = os.open(path, _O_READ)
    try:
        want = min(limit, _FIRST_READ)
        data = os.read(fd, want)
        if len(data) < want:  # short read: end of file (or an empty FIFO)
            return data
        chunks = [data]
        remaining = limit - len(data)
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except BlockingIOError:
        raise OSError(11, "not a regular file (read would block)", path) from None
    finally:
        os.close(fd)


def _read_text(path, limit):
    return _read_bytes(path, limit).decode("utf-8", "replace")


def _iso_now():
    import time

    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int((now % 1) * 1000)


_SECRET_NAME_MEMO = {}


def _looks_secret_name(name):
    # Memoised: the final scrub asks about every key of the report, and the
    # same few dozen keys repeat thousands of times.
    known = _SECRET_NAME_MEMO.get(name)
    if known is None:
        upper = name.upper()
        known = any(word in upper for word in _SECRET_WORDS)
        if len(_SECRET_NAME_MEMO) < 10000:
            _SECRET_NAME_MEMO[name] = known
    return known


# Option names (``--mysql-pwd``) also count "PWD"; the variable PWD is the cwd.
_OPTION_SECRET_WORDS = _SECRET_WORDS + ("PWD",)
# Well-known token formats: (prefix, minimum total length).
_TOKEN_PREFIXES = (
    ("ghp_", 30), ("gho_", 30), ("ghu_", 30), ("ghs_", 30), ("ghr_", 30), ("github_pat_", 30),
    ("glpat-", 20), ("gldt-", 20), ("xoxa-", 15), ("xoxb-", 15), ("xoxp-", 15), ("xoxo-", 15),
    ("xoxr-", 15), ("xoxs-", 15), ("xoxe-", 15), ("xoxe.", 15), ("xapp-", 20), ("sk-", 20),
    ("sk_live_", 20), ("sk_test_", 20), ("rk_live_", 20), ("rk_test_", 20), ("whsec_", 20),
    ("pypi-", 40), ("npm_", 30), ("hf_", 30), ("AIza", 35), ("SG.", 40), ("shpat_", 30),
    ("shpss_", 30), ("dop_v1_", 40), ("sq0atp-", 20), ("sq0csp-", 20), ("ya29.", 30),
    ("glsa_", 30), ("lin_api_", 30), ("secret_", 30), ("pat-na1-", 30), ("figd_", 30),
)
_TOKEN_PREFIX_TUPLE = tuple(prefix for prefix, _ in _TOKEN_PREFIXES)
_AWS_KEY_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA")
# Hosts whose URL path is the secret (incoming webhooks, bot tokens).
_WEBHOOK_HOSTS = ("hooks.slack.com", "discord.com", "discordapp.com", "webhook.office.com",
                  "outlook.office.com", "hooks.zapier.com", "api.telegram.org", "chat.googleapis.com",
                  "maker.ifttt.com", "events.pagerduty.com", "hooks.mattermost.com", "webhooks.gitter.im")
# URL user names that are conventions, not credentials.
_PLAIN_URL_USERS = ("git", "hg", "anonymous", "__token__", "oauth2", "x-access-token", "x-oauth-basic", "token")
_WORD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.+"
# str.translate table turning every ASCII character that cannot be part of a
# token into a space, so ``str.split`` finds the candidate words without re.
_WORD_SPLIT = dict((c, u" ") for c in range(128) if chr(c) not in _WORD_CHARS)
_MARK_PREFIX = "[secret:"
# uWSGI options whose value is NAME=VALUE for any NAME: environment variables
# and placeholders, where deployments keep passwords.
_UWSGI_PAIR_OPTIONS = ("env", "set", "set-ph", "set-placeholder", "set-env", "setenv")


def _class_of(ch):
    if "a" <= ch <= "z":
        return 1
    if "A" <= ch <= "Z":
        return 2
    if "0" <= ch <= "9":
        return 3
    return 0


def _looks_random(word):
    """A long mixed-case alphanumeric run with digits that reads like noise, not like a name.

    Measured against the file names, distribution and wheel names, versions
    and hashes of real installations (tests/test_secret_corpus.py): names are
    CamelCase or lower-case with separators, few capitals, and rarely switch
    character class; random base62/base64 is ~40% capitals and switches class
    on ~60% of its characters.  Pure hex never qualifies (no capitals):
    hashes and commit ids stay readable.
    """
    for part in word.replace("-", " ").replace("_", " ").replace(".", " ").replace("+", " ").split():
        if len(part) >= 20 and _random_run(part):
            return True
    return False


def _random_run(run):
    upper = lower = digit = switches = 0
    prev = None
    for ch in run:
        cls = _class_of(ch)
        if cls == 1:
            lower += 1
        elif cls == 2:
            upper += 1
        elif cls == 3:
            digit += 1
        if prev is not None and cls != prev:
            switches += 1
        prev = cls
    letters = upper + lower
    if upper < 2 or lower < 2 or digit < 1 or not 0.25 <= upper / float(letters) <= 0.75:
        return False
    if switches < 0.4 * (len(run) - 1):
        return False
    return len(set(run)) >= min(16, len(run) * 0.6)


def _secret_word(word):
    """True if *word* (no spaces or URL punctuation) has the shape of a credential."""
    n = len(word)
    if n < 16 or word.startswith(_MARK_PREFIX):
        return False
    if word.startswith(_TOKEN_PREFIX_TUPLE):
        for prefix, minimum in _TOKEN_PREFIXES:
            if n >= minimum and word.startswith(prefix):
                return True
    if n == 20 and word[:4] in _AWS_KEY_PREFIXES and word.isalnum() and word.upper() == word:
        return True
    if word.startswith("eyJ") and word.count(".") == 2 and n >= 30:
        return True  # JWT: base64url('{"...') . payload . signature
    # _random_run needs capitals and digits: most words (paths) have neither.
    return n >= 20 and word.lower() != word and _looks_random(word)


class _Masker(object):
    """Replace secrets with a short keyed hash.

    A hash instead of ``****`` keeps two reports comparable: equal secrets
    give equal marks, so a support engineer can see *that* a value differs
    without seeing it.  Secrets are recognised by the name they are stored
    under (``DB_PASSWORD=``, ``--token``) *and* by what they look like (URL
    credentials, token formats, PEM blocks, high-entropy strings), because a
    server passes names through: ``GUNICORN_CMD_ARGS="-e X=sk-..."``.

    This is the only masking code in venvprobe: the collector uses it while
    collecting, the probe and the CLI (``scrub``) on everything they print.
    It stays standard-library only and avoids ``re`` (import cost in the
    collector's start-up budget).
    """

    def __init__(self, key):
        self._key = key
        self._memo = {}

    def mark(self, value):
        import hashlib
        import hmac

        key = self._key
        if key is None:
            key = os.urandom(16)
            self._key = key
        if isinstance(key, str):
            key = key.encode("utf-8")
        digest = hmac.new(key, _text(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest()
        return "[secret:%s]" % digest[:10]

    # -- free text -------------------------------------------------------------

    def text(self, text):
        """Mask everything in *text* that looks like a secret by its value."""
        if not isinstance(text, str) or len(text) < 12:
            return text
        memo = self._memo
        done = memo.get(text)
        if done is not None:
            return done
        out = text
        if "-----BEGIN" in out:
            out = self._pem(out)
        if "://" in out:
            out = self.url(out)
        low = out.lower()
        if "authorization" in low or "bearer " in low or "basic " in low or "token " in low:
            out = self._auth(out)
        for word in out.translate(_WORD_SPLIT).split():
            if len(word) >= 16:
                core = word.strip(".-_+")
                if _secret_word(core) and core in out:
                    out = out.replace(core, self.mark(core))
        if len(memo) > 100000:
            memo.clear()
        memo[text] = out
        return out

    def value(self, text):
        """A value shown as is: name-based ``NAME=secret`` pairs and value-based masking."""
        return self.assignment(self.text(_text(text)))

    def _pem(self, text):
        out = []
        pos = 0
        while True:
            start = text.find("-----BEGIN", pos)
            if start < 0:
                break
            end = text.find("-----END", start)
            if end >= 0:
                close = text.find("-----", end + 8)
                end = close + 5 if close >= 0 else len(text)
            else:
                end = len(text)
            out.append(text[pos:start])
            out.append(self.mark(text[start:end]))
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def _auth(self, text):
        """``Authorization: <anything>`` and ``Bearer/Basic/Token <credential>``."""
        low = text.lower()
        at = low.find("authorization")
        while at >= 0:
            pos = at + len("authorization")
            while pos < len(text) and text[pos] in " \t\"'":
                pos += 1
            if pos < len(text) and text[pos] in ":=":
                pos += 1
                while pos < len(text) and text[pos] in " \t":
                    pos += 1
                end = pos
                while end < len(text) and text[end] not in "\"'\n\r,;":
                    end += 1
                if end > pos and not text[pos:end].startswith(_MARK_PREFIX):
                    text = text[:pos] + self.mark(text[pos:end]) + text[end:]
                    low = text.lower()
            at = low.find("authorization", pos)
        for scheme in ("bearer ", "basic ", "token "):
            at = low.find(scheme)
            while at >= 0:
                pos = at + len(scheme)
                while pos < len(text) and text[pos] == " ":
                    pos += 1
                end = pos
                while end < len(text) and not text[end].isspace() and text[end] not in "\"',;":
                    end += 1
                word = text[pos:end]
                # "Token expired" is prose: a credential is long and not a plain word.
                if len(word) >= 8 and not word.startswith(_MARK_PREFIX) and not word.isalpha():
                    text = text[:pos] + self.mark(word) + text[end:]
                    low = text.lower()
                at = low.find(scheme, pos + 1)
        return text

    def url(self, text):
        """Mask credentials in URLs and DSNs anywhere in *text*.

        The whole user-info part (``token@``, ``user:pw@``, ``token:@``), secret
        query parameters, and the path of webhook URLs (Slack, Discord, ...).
        """
        if "://" not in text:
            return text
        out = []
        pos = 0
        while True:
            scheme = text.find("://", pos)
            if scheme < 0:
                break
            start = scheme + 3
            end = start
            while end < len(text) and text[end] not in "/ \t\r\n?#'\"<>`":
                end += 1
            authority = text[start:end]
            at = authority.rfind("@")
            out.append(text[pos:start])
            if at >= 0:
                user, colon, password = authority[:at].partition(":")
                plain_user = user.lower() in _PLAIN_URL_USERS or (
                    colon and password and len(user) < 16 and not _secret_word(user))
                if user.startswith(_MARK_PREFIX) or plain_user:
                    shown = user
                else:
                    shown = self.mark(user) if user else ""
                if colon:
                    shown += ":" + (self.mark(password) if password and not password.startswith(_MARK_PREFIX) else password)
                out.append(shown + authority[at:])
                host = authority[at + 1:]
            else:
                out.append(authority)
                host = authority
            # The rest of this URL: path, query and fragment.
            rest_end = end
            while rest_end < len(text) and text[rest_end] not in " \t\r\n'\"<>`":
                rest_end += 1
            rest = text[end:rest_end]
            if rest:
                rest = self._url_rest(host.partition(":")[0].lower(), rest)
            out.append(rest)
            pos = rest_end
        out.append(text[pos:])
        return "".join(out)

    def _url_rest(self, host, rest):
        path, qmark, query = rest.partition("?")
        if any(host == h or host.endswith("." + h) for h in _WEBHOOK_HOSTS) and len(path) > 1:
            # Keep the first path segment (e.g. /services, /api) for orientation.
            head, _, tail = path[1:].partition("/")
            if tail and not tail.startswith(_MARK_PREFIX):
                path = "/" + head + "/" + self.mark(tail)
            elif not tail and not head.startswith(_MARK_PREFIX):
                path = "/" + self.mark(head)
        if qmark:
            query, hashmark, fragment = query.partition("#")
            params = []
            for param in query.split("&"):
                name, eq, val = param.partition("=")
                if eq and val and not val.startswith(_MARK_PREFIX) and (
                        _looks_secret_name(name) or name.lower() in ("sig", "code", "pwd", "pw", "p")):
                    val = self.mark(val)
                params.append(name + eq + val)
            query = "&".join(params) + hashmark + fragment
        return path + qmark + query

    # -- name-based --------------------------------------------------------------

    def argv(self, args):
        """Mask a command line by option and by value.

        ``--password x``, ``--password=x``, ``--mysql-pwd=x``, ``-p x``,
        ``-px``, ``-e/--env NAME=x`` (for every NAME: gunicorn, uWSGI and
        docker pass the app's environment this way), ``-H 'Authorization:
        x'``, ``-u user:x``, plus everything :meth:`text` recognises.
        """
        out = []
        pending = None
        for arg in args:
            arg = _text(arg)
            if pending is not None:
                out.append(self._option_value(pending, arg))
                pending = None
                continue
            shown = arg
            if arg.startswith("--") and len(arg) > 2:
                name, eq, val = arg[2:].partition("=")
                kind = self._option_kind("--" + name)
                if kind and eq:
                    shown = "--" + name + "=" + self._option_value(kind, val)
                elif kind:
                    pending = kind
            elif arg.startswith("-") and len(arg) >= 2 and arg[1] in "peHu":
                kind = self._option_kind(arg[:2])
                if len(arg) == 2:
                    pending = kind
                else:
                    shown = arg[:2] + self._option_value(kind, arg[2:].lstrip("="))
                    # -password / -pwd x: a single-dash long option, the secret follows.
                    if arg[1:].lower() in ("password", "passwd", "pass", "pwd"):
                        pending = "secret"
            elif arg.startswith("-") and arg[1:].isalpha() and len(arg) > 3 and self._option_kind("-" + arg) == "secret":
                pending = "secret"
            out.append(self.value(shown))
        return out

    @staticmethod
    def _option_kind(option):
        if option in ("-e", "--env"):
            return "env"
        if option in ("-H", "--header"):
            return "header"
        if option in ("-u", "--user"):
            return "user"
        if option == "-p":
            return "secret"
        if option.startswith("--"):
            upper = option[2:].upper()
            if any(word in upper for word in _OPTION_SECRET_WORDS):
                return "secret"
        return None

    def _option_value(self, kind, value):
        if not value or value.startswith(_MARK_PREFIX):
            return value
        if kind == "secret":
            return self.mark(value)
        if kind == "env":
            name, eq, val = value.partition("=")
            return name + eq + self.mark(val) if eq and val else self.value(value)
        if kind == "header":
            name, colon, val = value.partition(":")
            if colon and val.strip():
                return name + ": " + self.mark(val.strip())
            return self.value(value)
        if kind == "user":
            user, colon, password = value.partition(":")
            return user + ":" + self.mark(password) if colon and password else self.value(value)
        return self.value(value)

    def cmdline(self, text):
        """A command line held in one string (``GUNICORN_CMD_ARGS``, pyvenv.cfg ``command``)."""
        words = _shell_words(_text(text))
        if words is None:
            return self.value(text)
        shown = []
        for word in self.argv(words):
            shown.append("'" + word + "'" if (not word or " " in word or "\t" in word) else word)
        return " ".join(shown)

    def uwsgi_option(self, name, value):
        """One uWSGI option value (``env = NAME=x``, ``set-ph = NAME=x``: x masked for every NAME)."""
        name = name.lower().replace("_", "-")
        value = _text(value)
        if name in _UWSGI_PAIR_OPTIONS:
            return self._option_value("env", value)
        if self._option_kind("--" + name) == "secret":
            return self.mark(value)
        return self.value(value)

    def env_var(self, name, value):
        """One environment variable's value as shown in a report."""
        if _looks_secret_name(name) and name not in ("PYTHONPATH",):
            return self.mark(value)
        if name == "GUNICORN_CMD_ARGS":
            return self.cmdline(value)
        if name.startswith("UWSGI_"):
            return self.uwsgi_option(name[6:], value)
        return self.value(value)

    def pth_line(self, line):
        """An import line of a .pth file: ``os.environ['X_TOKEN'] = '...'`` and values by shape."""
        line = self.value(line)
        literals = _quoted(line)
        for index, (start, end) in enumerate(literals[:-1]):
            name = line[start:end]
            if _looks_secret_name(name) and not name.startswith(_MARK_PREFIX):
                vstart, vend = literals[index + 1]
                value = line[vstart:vend]
                if value and not value.startswith(_MARK_PREFIX):
                    return self.pth_line(line[:vstart] + self.mark(value) + line[vend:])
        return line

    def assignment(self, text):
        """Mask ``--password=x`` / ``TOKEN=x`` arguments and URL credentials in *text*.

        Also nested pairs inside a value, which servers pass through: uWSGI's
        ``env = SECRET_KEY=x``, ``GUNICORN_CMD_ARGS="--env DB_PASSWORD=x"``,
        ``--env=API_TOKEN=x``.  A value runs to the next whitespace.
        """
        text = self.url(text)
        if "=" not in text:
            return text
        out = []
        for token in _split_keep_space(text):
            pos = token.find("=")
            while pos > 0:
                start = pos
                while start > 0 and (token[start - 1].isalnum() or token[start - 1] in "_.-"):
                    start -= 1
                name = token[start:pos].lstrip("-.")
                value = token[pos + 1:]
                if name and value and _looks_secret_name(name) and not value.startswith(_MARK_PREFIX):
                    token = token[:pos + 1] + self.mark(value)
                    break
                pos = token.find("=", pos + 1)
            out.append(token)
        return "".join(out)

    def colon_assignment(self, text):
        """``X-Api-Key: x`` / ``token: x``: the word after a secret-named ``name:``."""
        if ": " not in text:
            return text
        parts = _split_keep_space(text)
        for index in range(len(parts) - 2):
            word = parts[index]
            if len(word) > 2 and word.endswith(":") and _looks_secret_name(word[:-1].strip("\"'-{,")):
                value = parts[index + 2]
                if not value.startswith(_MARK_PREFIX):
                    end = len(value.rstrip("\"',;}"))
                    parts[index + 2] = self.mark(value[:end]) + value[end:]
        return "".join(parts)

    def scrub(self, value):
        """Every string in a JSON-like structure through :meth:`text` (a copy).

        A string stored under a secret-looking key (``{"DB_PASSWORD": ...}``)
        is masked whole: no report field has such a name, variables do.
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if isinstance(v, str) and isinstance(k, str) and _looks_secret_name(k) and k != "PYTHONPATH" \
                        and v and not v.startswith(_MARK_PREFIX):
                    out[k] = self.mark(v)
                else:
                    out[k] = self.scrub(v)
            return out
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


def _quoted(line):
    """(start, end) of the contents of each '...' or "..." literal in *line*."""
    spans = []
    pos = 0
    while True:
        starts = [p for p in (line.find("'", pos), line.find('"', pos)) if p >= 0]
        if not starts:
            return spans
        start = min(starts)
        end = line.find(line[start], start + 1)
        if end < 0:
            return spans
        spans.append((start + 1, end))
        pos = end + 1


def _shell_words(text):
    """Split a command line like a POSIX shell would (quotes, backslashes); None if unbalanced."""
    words = []
    current = []
    have = False
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"' and i + 1 < len(text):
                i += 1
                current.append(text[i])
            else:
                current.append(ch)
        elif ch in "'\"":
            quote = ch
            have = True
        elif ch == "\\" and i + 1 < len(text):
            i += 1
            current.append(text[i])
            have = True
        elif ch.isspace():
            if have or current:
                words.append("".join(current))
                current = []
                have = False
        else:
            current.append(ch)
        i += 1
    if quote:
        return None
    if have or current:
        words.append("".join(current))
    return words


def _split_keep_space(text):
    """Split *text* into runs of non-space and space characters (no ``re``)."""
    parts = []
    current = []
    in_space = None
    for ch in text:
        space = ch.isspace()
        if in_space is not None and space != in_space:
            parts.append("".join(current))
            current = []
        current.append(ch)
        in_space = space
    if current:
        parts.append("".join(current))
    return parts


# --------------------------------------------------------------------------
# JSON output without importing json (json pulls in re: several ms).


def _escape_table():
    table = {i: u"\\u%04x" % i for i in range(0x20)}
    table.update({0x08: u"\\b", 0x09: u"\\t", 0x0A: u"\\n", 0x0C: u"\\f", 0x0D: u"\\r"})
    table[ord('"')] = u'\\"'
    table[ord("\\")] = u"\\\\"
    for i in range(0xD800, 0xE000):
        table[i] = u"\\u%04x" % i
    return table


def dumps(obj):
    """Serialise plain report data (dict/list/str/int/float/bool/None) as JSON.

    Uses CPython's C encoder from ``_json`` directly (``import json`` would
    pull in ``re`` and cost more than encoding); falls back to pure Python.
    """
    try:
        import _json

        encoder = _json.make_encoder(
            None, _text, _json.encode_basestring_ascii, None, ":", ",", False, False, False)
        return "".join(encoder(obj, 0))
    except Exception:  # no C accelerator (PyPy) or a value it refuses: the slow path
        return _dumps_python(obj)


def _dumps_python(obj):
    table = _escape_table()
    parts = []
    append = parts.append

    def enc(value):
        if isinstance(value, str):
            append('"')
            append(value.translate(table))
            append('"')
        elif value is None:
            append("null")
        elif value is True:
            append("true")
        elif value is False:
            append("false")
        elif isinstance(value, int):
            append(str(int(value)))
        elif isinstance(value, float):
            append(repr(value) if value == value and value not in (float("inf"), float("-inf")) else "null")
        elif isinstance(value, dict):
            append("{")
            first = True
            for key, item in value.items():
                if not first:
                    append(",")
                first = False
                enc(key if isinstance(key, str) else str(key))
                append(":")
                enc(item)
            append("}")
        elif isinstance(value, (list, tuple)):
            append("[")
            first = True
            for item in value:
                if not first:
                    append(",")
                first = False
                enc(item)
            append("]")
        else:
            enc(_text(value))

    enc(obj)
    return "".join(parts)


# --------------------------------------------------------------------------
# directory scanning, shared by sys_path, distributions and shadowed


class _Listing(object):
    """What one sys.path entry provides, read with a single scandir."""

    __slots__ = ("names", "dirs", "truncated", "error", "kind", "importer", "_name_set")

    def __init__(self):
        self.importer = None
        self._name_set = None
        self.names = []
        self.dirs = set()
        self.truncated = False
        self.error = None
        self.kind = "missing"


    def name_set(self):
        """The names as a set, built once (RECORD checks of every dist share it)."""
        if self._name_set is None:
            self._name_set = set(self.names)
        return self._name_set


def _list_entry(path):
    """List one sys.path entry; every failure becomes ``listing.error``, never an exception."""
    import stat

    listing = _Listing()
    try:
        st = os.stat(path)
    except ValueError as exc:  # an embedded NUL byte: no such path can exist
        listing.error = "ValueError: %s" % exc
        return listing
    except OSError as exc:
        listing.error = "%s: %s" % (type(exc).__name__, _text(exc.strerror or str(exc)))
        if isinstance(exc, PermissionError):
            # A parent directory is not traversable: the entry may well exist.
            listing.kind = "inaccessible"
        elif getattr(exc, "errno", None) == 40 or os.path.islink(path):
            listing.kind = "missing"
            listing.error = "dangling symlink or symlink loop: " + listing.error
        return listing
    try:
        if stat.S_ISDIR(st.st_mode):
            listing.kind = "dir"
            count = 0
            with os.scandir(path) as it:
                for entry in it:
                    count += 1
                    if count > MAX_DIR_ENTRIES:
                        listing.truncated = True
                        break
                    name = entry.name
                    listing.names.append(name)
                    try:
                        if entry.is_dir():
                            listing.dirs.add(name)
                    except OSError:
                        pass
        elif stat.S_ISREG(st.st_mode):
            listing.kind = "file"
            listing.names = _zip_top_level(path, listing)
        else:
            listing.kind = "special"
            listing.error = "neither a directory nor a regular file"
    except OSError as exc:
        listing.error = "%s: %s" % (type(exc).__name__, _text(exc.strerror or str(exc)))
    return listing


def _zip_top_level(path, listing):
    """Top-level names in a zip on sys.path, without importing zipfile."""
    names = set()
    try:
        if _read_bytes(path, 4) != b"PK\x03\x04":
            listing.kind = "file-not-zip"
            return []
        listing.kind = "zip"
        # zipimport is always available and already parses the directory.
        import zipimport

        importer = zipimport.zipimporter(path)
        listing.importer = importer
        files = getattr(importer, "_files", None) or {}
        for name in files:
            name = name.replace("\\", "/")
            head, sep, _ = name.partition("/")
            names.add(head)
            if sep:
                listing.dirs.add(head)
    except Exception as exc:  # a corrupt zip must not stop the report
        listing.error = "%s: %s" % (type(exc).__name__, _text(exc))
    return sorted(names)


def _module_name(name, is_dir, ext_suffixes):
    """Module name provided by a directory entry, and its kind, or None."""
    if is_dir:
        if name.isidentifier() and name != "__pycache__":
            return name, "package"
        return None
    for suffix in ext_suffixes:
        if name.endswith(suffix):
            stem = name[: -len(suffix)]
            return (stem, "extension") if stem.isidentifier() else None
    if name.endswith(".py"):
        stem = name[:-3]
        return (stem, "module") if stem.isidentifier() else None
    if name.endswith(".pyc"):
        stem = name[:-4]
        return (stem, "bytecode") if stem.isidentifier() else None
    return None


# --------------------------------------------------------------------------
# the collector


class Collector(object):
    """Collect one report of the interpreter it runs in.

    ``options``: ``redact_key`` (str, key for secret marks), ``use_psutil``
    (bool; off when run inside a foreign interpreter, where psutil would be
    one of the inspected packages), ``skip`` (section names not to collect).
    """

    def __init__(self, options=None):
        self.options = dict(options or {})
        self.masker = _Masker(self.options.get("redact_key"))
        self._listings = {}
        self._sysconfig_paths = None
        self.skipped = []

    # -- entry points ------------------------------------------------------

    def collect(self):
        report = {
            "schema": {"name": SCHEMA_NAME, "version": SCHEMA_VERSION},
            "generated_at": _iso_now(),
            "collector": {
                "python": "%d.%d.%d" % sys.version_info[:3],
                "in_process": not self.options.get("foreign", False),
            },
        }
        sections = (
            ("interpreter", self.interpreter),
            ("identity", self.identity),
            ("sys_path", self.sys_path),
            ("distributions", self.distributions_cache),
            ("shadowed", self.shadowed),
            ("modules", self.modules),
            ("process", self.process),
            ("environment", self.environment),
        )
        if "removed_path0" in self.options:
            report["collector"]["removed_sys_path_0"] = self.options["removed_path0"]
        skip = set(self.options.get("skip") or ())
        _neutralise_nul_entries()
        for name, func in sections:
            if name in skip:
                continue
            try:
                # Every string once more by value: a secret can sit in any
                # path or name (a token in a directory name, in sys.path).
                report[name] = self.masker.scrub(func())
            except Exception as exc:  # a failing section must not sink the others
                report[name] = _error(exc)
        if self.skipped:
            report["collector"]["skipped"] = list(self.skipped)
        report["findings"] = []
        return report

    def skip(self, what, detail):
        """Record something left out of the report because of a cap (said once per kind)."""
        for item in self.skipped:
            if item["what"] == what:
                item["count"] += 1
                return
        self.skipped.append({"what": what, "detail": detail, "count": 1})

    # -- interpreter -------------------------------------------------------

    def _paths(self):
        if self._sysconfig_paths is None and _SYSCONFIG_PATHS:
            # sysconfig expands its path templates on every call (~80 us):
            # once per interpreter is enough, they cannot change under us.
            self._sysconfig_paths = dict(_SYSCONFIG_PATHS[0])
        if self._sysconfig_paths is None:
            import sysconfig

            try:
                self._sysconfig_paths = dict(sysconfig.get_paths())
                _SYSCONFIG_PATHS[:] = [dict(self._sysconfig_paths)]
            except Exception as exc:
                self._sysconfig_paths = {"error": str(exc)}
        return self._sysconfig_paths

    def interpreter(self):
        import sysconfig

        info = {
            "executable": _text(sys.executable),
            "real_executable": None,
            "base_executable": _text(getattr(sys, "_base_executable", "") or ""),
            "argv0": _text(sys.argv[0]) if getattr(sys, "argv", None) else None,
            "orig_argv": self.masker.argv(getattr(sys, "orig_argv", [])),
            "version": "%d.%d.%d" % sys.version_info[:3],
            "version_full": _text(sys.version),
            "version_info": list(sys.version_info[:3]),
            "implementation": sys.implementation.name,
            "cache_tag": sys.implementation.cache_tag,
            "soabi": sysconfig.get_config_var("SOABI"),
            "abiflags": getattr(sys, "abiflags", ""),
            "platform": sys.platform,
            "prefix": _text(sys.prefix),
            "exec_prefix": _text(sys.exec_prefix),
            "base_prefix": _text(getattr(sys, "base_prefix", sys.prefix)),
            "base_exec_prefix": _text(getattr(sys, "base_exec_prefix", sys.exec_prefix)),
            "base_prefix_real": _text(os.path.realpath(getattr(sys, "base_prefix", sys.prefix))),
            "platlibdir": getattr(sys, "platlibdir", "lib"),
            "in_venv": getattr(sys, "base_prefix", sys.prefix) != sys.prefix,
            "real_prefix": _text(getattr(sys, "real_prefix")) if hasattr(sys, "real_prefix") else None,
            "has_real_prefix": hasattr(sys, "real_prefix"),
        }
        try:
            info["real_executable"] = _text(os.readlink("/proc/self/exe"))
        except OSError:
            info["real_executable"] = info["executable"]
        info["home"] = self._home()
        info["pyvenv_cfg"] = self._pyvenv_cfg()
        paths = self._paths()
        info["sysconfig_paths"] = {
            key: _text(paths.get(key)) if paths.get(key) is not None else None
            for key in ("stdlib", "platstdlib", "purelib", "platlib", "scripts", "data", "include")
        }
        info["install_dirs_exist"] = {
            key: os.path.isdir(info["sysconfig_paths"][key]) if info["sysconfig_paths"].get(key) else None
            for key in ("purelib", "platlib")
        }
        try:
            info["sysconfig_scheme"] = sysconfig.get_default_scheme()
        except Exception:
            info["sysconfig_scheme"] = None
        info["user_site"] = self._user_site()
        try:
            import site

            # Where site.py adds site-packages (the ones that exist) at start-up.
            info["site_packages"] = [_text(p) for p in site.getsitepackages()]
        except Exception:  # older virtualenv's site.py had no getsitepackages
            info["site_packages"] = None
        flags = sys.flags
        info["flags"] = {
            name: int(getattr(flags, name))
            for name in (
                "isolated", "no_site", "no_user_site", "ignore_environment",
                "safe_path", "dont_write_bytecode", "optimize", "utf8_mode",
            )
            if hasattr(flags, name)
        }
        info["build"] = {
            "shared_libpython": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
            "ldlibrary": sysconfig.get_config_var("LDLIBRARY"),
            "libdir": sysconfig.get_config_var("LIBDIR"),
            "configured_prefix": sysconfig.get_config_var("prefix"),
            "maxunicode": sys.maxunicode,
            "multiarch": sysconfig.get_config_var("MULTIARCH"),
        }
        info["mapped_objects"] = self._mapped_objects()
        info["python_env"] = {
            name: self.masker.env_var(name, value)
            for name, value in sorted(os.environ.items()) if name.startswith("PYTHON")
        } if not sys.flags.ignore_environment else {}
        info["python_env_ignored"] = bool(sys.flags.ignore_environment)
        info["filesystem_encoding"] = sys.getfilesystemencoding()
        return info

    def _home(self):
        home = {"env_PYTHONHOME": None, "initialised_with": None, "source": None}
        if not sys.flags.ignore_environment and os.environ.get("PYTHONHOME"):
            home["env_PYTHONHOME"] = _text(os.environ["PYTHONHOME"])
            home["source"] = "PYTHONHOME"
        # Only an embedding process (mod_wsgi, uWSGI) can have been given a
        # home through the C API; ctypes costs ms, so skip it elsewhere.
        if self._embedded():
            try:
                import ctypes

                api = ctypes.pythonapi
                config_get = getattr(api, "PyConfig_Get", None)  # 3.14+ (PEP 741)
                getter = getattr(api, "Py_GetPythonHome", None)
                if config_get is not None:
                    config_get.restype = ctypes.py_object
                    config_get.argtypes = [ctypes.c_char_p]
                    value = config_get(b"home")
                    if value:
                        home["initialised_with"] = _text(value)
                        home["source"] = home["source"] or "PyConfig.home (embedding server)"
                elif getter is not None:
                    getter.restype = ctypes.c_wchar_p
                    value = getter()
                    if value:
                        home["initialised_with"] = _text(value)
                        # mod_wsgi 5+ sets PyConfig.home (Py_GetPythonHome still reads it back);
                        # 4.x and uWSGI call Py_SetPythonHome.
                        version = getattr(sys.modules.get("mod_wsgi"), "version", None) or ()
                        api_name = "PyConfig.home" if version and version[0] >= 5 else "Py_SetPythonHome"
                        home["source"] = home["source"] or "%s (embedding server)" % api_name
            except Exception as exc:
                home["error"] = _error(exc)["error"]
            # mod_wsgi 4.x-6.x: a python-home holding a readable pyvenv.cfg is not
            # passed as a home at all; the interpreter is started as if it
            # were <home>/bin/python, so the venv shows as the program name.
            exe = sys.executable or ""
            if not home["initialised_with"] and sys.prefix != getattr(sys, "base_prefix", sys.prefix) \
                    and os.path.dirname(os.path.dirname(exe)) == sys.prefix:
                home["program_name_home"] = _text(sys.prefix)
                home["source"] = home["source"] or "program name %s (python-home of a venv)" % _text(exe)
        return home

    def _embedded(self):
        exe = os.path.basename(self._real_exe())
        return not exe.startswith(("python", "pypy")) and ("mod_wsgi" in sys.modules or "uwsgi" in sys.modules)

    def _real_exe(self):
        try:
            return os.readlink("/proc/self/exe")
        except OSError:
            return sys.executable or ""

    def _pyvenv_cfg(self):
        candidates = [os.path.join(sys.prefix, "pyvenv.cfg")]
        if sys.executable:
            bindir = os.path.dirname(sys.executable)
            candidates.append(os.path.join(os.path.dirname(bindir), "pyvenv.cfg"))
        for path in candidates:
            parsed = parse_pyvenv_cfg(path, self.masker)
            if parsed is not None:
                return parsed
        return None

    def _user_site(self):
        import site

        out = {
            "ENABLE_USER_SITE": getattr(site, "ENABLE_USER_SITE", None),
            "USER_SITE": None,
            "USER_BASE": None,
            "HOME": _text(os.environ.get("HOME", "")) or None,
        }
        try:
            out["USER_BASE"] = _text(site.getuserbase())
            out["USER_SITE"] = _text(site.getusersitepackages())
        except Exception as exc:
            out["error"] = _error(exc)["error"]
        if out["USER_SITE"]:
            out["USER_SITE_exists"] = os.path.isdir(out["USER_SITE"])
        return out

    def _mapped_objects(self):
        """libpython / mod_wsgi / uwsgi objects mapped into this process."""
        found = []
        try:
            with open("/proc/self/maps", "rb") as handle:
                data = handle.read(8 << 20)
        except OSError:
            return None
        seen = set()
        for line in data.splitlines():
            parts = line.split(None, 5)
            if len(parts) < 6:
                continue
            path = parts[5].strip()
            base = os.path.basename(path)
            if path in seen:
                continue
            if base.startswith((b"libpython", b"mod_wsgi", b"python3", b"uwsgi")) or b"python3" in base and base.endswith(b".so"):
                seen.add(path)
                found.append(_text(path))
        return found

    # -- sys.path ------------------------------------------------------------

    def _real(self, path):
        """realpath of a sys.path entry, once per collection (sys_path, distributions and providers share it)."""
        reals = self.__dict__.setdefault("_reals", {})
        real = reals.get(path)
        if real is None:
            real = reals[path] = _realpath(path)
        return real

    def _listing(self, path):
        listing = self._listings.get(path)
        if listing is None:
            listing = _list_entry(path)
            self._listings[path] = listing
        return listing

    def _site_sets(self):
        """Where site.py would put venv / base / user site-packages."""
        import site

        prefix = sys.prefix
        base = getattr(sys, "base_prefix", prefix)
        venv_sites, base_sites = set(), set()
        try:
            if prefix != base:
                venv_sites.update(site.getsitepackages([prefix, sys.exec_prefix]))
            base_sites.update(site.getsitepackages([base, getattr(sys, "base_exec_prefix", base)]))
        except Exception:
            pass
        norm = lambda paths: {os.path.normpath(p) for p in paths}
        user = getattr(site, "USER_SITE", None)
        return norm(venv_sites), norm(base_sites), os.path.normpath(user) if user else None

    def sys_path(self):
        entries = []
        paths = self._paths()
        stdlib = os.path.normpath(paths.get("stdlib") or "")
        platstdlib = os.path.normpath(paths.get("platstdlib") or "")
        dynload = {os.path.join(stdlib, "lib-dynload"), os.path.join(platstdlib, "lib-dynload")}
        venv_sites, base_sites, user_site = self._site_sets()
        pythonpath = []
        if not sys.flags.ignore_environment and os.environ.get("PYTHONPATH"):
            cwd = _cwd()
            pythonpath = [
                os.path.normpath(os.path.join(cwd, p)) for p in os.environ["PYTHONPATH"].split(os.pathsep) if p
            ]
        self._pth_index = pth_index = self._pth_files()
        editable_pths = None  # read from the distributions only when a non-setuptools .pth needs it
        zipname = "python%d%d.zip" % sys.version_info[:2]
        first_real = {}
        first_norm = {}
        cwd = _cwd()
        script_reals, script_how = _script_dirs()
        server = _server_name()
        server_cwd_real = _realpath(cwd) if server in ("gunicorn",) else None
        used_pp = set()
        used_pth = set()
        this_xy = "python%d.%d" % sys.version_info[:2]
        norms = []
        for index, raw in enumerate(list(sys.path)):
            norm = (os.path.normpath(os.path.join(cwd, raw)) if raw else cwd) if isinstance(raw, str) else None
            norms.append(norm)
            if norm is not None:
                first_norm.setdefault(norm, index)
        script_index = _script_index(sys.path, norms, script_reals, pythonpath,
                                     (stdlib, platstdlib, zipname), server)
        for index, raw in enumerate(list(sys.path)):
            item = {"index": index, "path": _text(raw)}
            if not isinstance(raw, str):
                item["origin"] = {"kind": "invalid", "detail": "not a str: %s" % type(raw).__name__}
                entries.append(item)
                continue
            if not _is_utf8(raw):
                item["non_utf8"] = True
            absolute = os.path.normpath(os.path.join(cwd, raw)) if raw else cwd
            item["abs_path"] = _text(absolute)
            real = self._real(absolute)
            item["real_path"] = _text(real)
            listing = self._listing(absolute)
            item["exists"] = listing.kind not in ("missing",)
            item["is_dir"] = listing.kind == "dir"
            item["is_zip"] = listing.kind == "zip"
            try:
                item["readable"] = os.access(absolute, os.R_OK | (os.X_OK if listing.kind == "dir" else 0)) if item["exists"] else False
            except ValueError:
                item["readable"] = False
            if listing.error:
                item["error"] = listing.error
                item["readable"] = False
            if listing.truncated:
                item["truncated_listing"] = True
            if item["is_dir"]:
                item["entries"] = len(listing.names)
            if real in first_real:
                item["duplicate_of"] = first_real[real]
            else:
                first_real[real] = index
            norm = os.path.normpath(absolute)
            origin = None
            pth_hit = pth_index.get(norm)
            if pth_hit is not None:
                # A path line is appended after its own directory is processed,
                # once: an earlier copy, or a later repeat, was put there by code.
                pth_dir_index = first_norm.get(pth_hit[2])
                if norm in used_pth or pth_dir_index is None or pth_dir_index >= index:
                    pth_hit = None
            if raw in ("", ".") and server in ("gunicorn", "uwsgi"):
                origin = {"kind": "server_cwd", "detail": "current directory, put first by %s" % server}
            elif server_cwd_real is not None and real == server_cwd_real and index == 0:
                origin = {"kind": "server_cwd", "detail": "working directory gunicorn put first (--chdir, default: where it was started)"}
            elif index == script_index:
                origin = {"kind": "script_dir",
                          "detail": "current directory (python -c, -m or interactive)" if raw == "" else script_how}
            elif norm in pythonpath and norm not in used_pp:
                used_pp.add(norm)
                origin = {"kind": "pythonpath", "detail": "PYTHONPATH environment variable"}
            elif os.path.basename(norm) == zipname:
                origin = {"kind": "stdlib_zip", "detail": "standard library zip (usually absent)"}
            elif norm in (stdlib, platstdlib):
                origin = {"kind": "stdlib", "detail": "standard library"}
            elif norm in dynload:
                origin = {"kind": "lib_dynload", "detail": "standard library extension modules"}
            elif norm in venv_sites:
                origin = {"kind": "venv_site", "detail": "site-packages of the venv at sys.prefix"}
            elif norm in base_sites:
                origin = {"kind": "base_site", "detail": "site-packages of the base installation (%s)" % _text(sys.base_prefix)}
            elif user_site and norm == user_site:
                origin = {"kind": "user_site", "detail": "user site-packages (PEP 370)"}
            elif raw.endswith(".__path_hook__") and "__editable__" in raw:
                origin = {"kind": "editable_finder", "detail": "placeholder of a setuptools editable finder (namespace packages)"}
            elif pth_hit is not None:
                used_pth.add(norm)
                pth, lineno = pth_hit[0], pth_hit[1]
                kind = "pth"
                if os.path.basename(pth).startswith("__editable__"):
                    kind = "editable"
                else:
                    if editable_pths is None:
                        editable_pths = self._editable_pth_files()
                    if pth in editable_pths:
                        kind = "editable"
                origin = {"kind": kind, "detail": "%s line %d" % (pth, lineno), "pth_file": pth, "line": lineno}
            else:
                hit = self._pth_import_for(raw, norm)
                if hit is not None:
                    origin = {"kind": "pth", "detail": "%s line %d (import line)" % (hit[0], hit[1]),
                              "pth_file": hit[0], "line": hit[1], "via": "import"}
                else:
                    venv_root = _venv_root_of_site(norm)
                    if venv_root:
                        origin = {"kind": "runtime_venv_site", "detail": "site-packages of another venv (%s) added at runtime (addsitedir, python-path or app code)" % venv_root,
                                  "venv_root": venv_root, "pyvenv_cfg": parse_pyvenv_cfg(os.path.join(venv_root, "pyvenv.cfg"), self.masker)}
                    elif "mod_wsgi" in sys.modules:
                        origin = {"kind": "runtime", "detail": "added at runtime: python-path / WSGIPythonPath or application code"}
                    else:
                        origin = {"kind": "runtime", "detail": "added at runtime (application code or sitecustomize)"}
            item["origin"] = origin
            # The site-packages of another Python (X.Y) on this path: its
            # bytecode and C extensions are not for this interpreter.
            other = _other_python_site(norm, this_xy)
            if other is not None and origin["kind"] not in ("venv_site", "base_site", "user_site", "stdlib"):
                item["other_python_site"] = other
            entries.append(item)
        return {"entries": entries, "pth_files": self._pth_report, "editable_finders": self._finders}

    def _editable_pth_files(self):
        """The .pth files editable distributions installed (named in their RECORD)."""
        out = set()
        try:
            dists = self.distributions_cache()
        except Exception:  # the distributions section reports its own error
            return out
        for dist in dists:
            if dist.get("editable"):
                for name in dist.get("record_pth") or ():
                    out.add(_text(os.path.join(dist.get("location") or "", name)))
                if dist.get("editable_pth"):
                    out.add(dist["editable_pth"])
        return out

    def _pth_import_for(self, raw, norm):
        """The .pth import line that names this entry literally (it added it), or None."""
        for text, pth, lineno in getattr(self, "_pth_imports", None) or ():
            if raw and (raw in text or norm in text):
                return pth, lineno
        return None

    def _pth_files(self):
        """Parse every .pth file in every sys.path directory (never executing them).

        Returns {normalised path a line adds: (pth file, line number)} and
        records each file in ``self._pth_report``.
        """
        index = {}
        self._pth_report = []
        self._finders = []
        self._pth_imports = []
        on_path = {os.path.normpath(p) for p in sys.path if isinstance(p, str)}
        total_bytes = 0
        reported = 0
        seen_dirs = set()
        for raw in list(sys.path):
            if not isinstance(raw, str) or not raw:
                continue
            sitedir = os.path.normpath(raw)
            if sitedir in seen_dirs:  # a repeated entry: one record per file
                continue
            seen_dirs.add(sitedir)
            listing = self._listing(sitedir)
            if listing.kind != "dir":
                continue
            for name in sorted(n for n in listing.names if n.endswith(".pth") and not n.startswith(".")):
                path = os.path.join(sitedir, name)
                record = {"file": _text(path), "dir": _text(sitedir), "lines": []}
                if total_bytes >= MAX_PTH_TOTAL_BYTES:
                    record["error"] = "not read: the .pth files before it hold more than %d MiB" % (
                        MAX_PTH_TOTAL_BYTES >> 20)
                    self.skip("pth_files", "files not read: the .pth files hold more than %d MiB in all"
                              % (MAX_PTH_TOTAL_BYTES >> 20))
                    self._pth_report.append(record)
                    continue
                try:
                    text = _read_text(path, min(MAX_PTH_BYTES, MAX_PTH_TOTAL_BYTES - total_bytes))
                except (OSError, ValueError) as exc:
                    record["error"] = _error(exc)["error"]
                    self._pth_report.append(record)
                    continue
                total_bytes += len(text)
                skipped_lines = 0
                lines = text.splitlines()
                for lineno, line in enumerate(lines, 1):
                    stripped = line.strip()
                    if not stripped or stripped.startswith("#"):
                        continue
                    if reported >= MAX_PTH_LINES:
                        skipped_lines = self._pth_rest(lines, lineno - 1, sitedir, path, on_path, index)
                        break
                    reported += 1
                    if line.startswith(("import ", "import\t")):
                        item = {"line": lineno, "kind": "import", "text": self.masker.pth_line(line.rstrip()[:500])}
                        finder = _editable_finder(sitedir, name, line) if name.startswith("__editable__") else None
                        if finder is not None:
                            item["editable_finder"] = finder
                            self._finders.append(dict(finder, pth_file=_text(path)))
                        record["lines"].append(item)
                        self._pth_imports.append((line, _text(path), lineno))
                        continue
                    target = os.path.normpath(os.path.join(sitedir, line.rstrip()))
                    exists = os.path.exists(target)
                    record["lines"].append({
                        "line": lineno, "kind": "path", "text": self.masker.text(_text(line.rstrip()[:500])),
                        "target": self.masker.text(_text(target)), "exists": exists, "on_sys_path": target in on_path,
                    })
                    if target not in index:
                        index[target] = (_text(path), lineno, sitedir)
                if skipped_lines:
                    record["skipped_lines"] = skipped_lines
                    self.skip("pth_lines", "lines of .pth files not listed: more than %d in all" % MAX_PTH_LINES)
                self._pth_report.append(record)
        return index

    @staticmethod
    def _pth_rest(lines, start, sitedir, path, on_path, index):
        """Lines of a .pth file past the cap: not listed nor stat'ed, but a line
        that put an entry on sys.path still explains that entry.  Set
        operations, not a Python loop per line: the rest may be a million lines.
        Returns how many lines were skipped."""
        rest = lines[start:]
        wanted = set(on_path)
        for p in on_path:
            try:
                wanted.add(os.path.relpath(p, sitedir))
            except ValueError:
                pass
        for hit in set(map(str.strip, rest)) & wanted:
            lineno = start + 1 + next(i for i, line in enumerate(rest) if line.strip() == hit)
            target = os.path.normpath(os.path.join(sitedir, hit))
            if target in on_path and target not in index:
                index[target] = (_text(path), lineno, sitedir)
        return len(rest)

    # -- distributions ---------------------------------------------------------

    def distributions(self):
        dists = []
        seen = set()
        for index, raw in enumerate(list(sys.path)):
            if not isinstance(raw, str):
                continue
            entry = os.path.normpath(raw) if raw else _cwd()
            # One directory reached twice (a repeated or symlinked entry) holds
            # one set of distributions, not two copies of each.
            real = self._real(entry)
            if real in seen:
                continue
            seen.add(real)
            listing = self._listing(entry)
            if listing.kind == "zip":
                dists.extend(self._zip_dists(index, entry, listing))
                continue
            if raw.endswith(".egg"):
                meta = os.path.join(entry, "EGG-INFO", "PKG-INFO")
                if listing.kind == "dir" and os.path.isfile(meta):
                    dists.append(self._dist(index, entry, os.path.join(entry, "EGG-INFO"), "egg", listing))
                continue
            if listing.kind != "dir":
                continue
            # String concatenation, not os.path.join: this runs per distribution.
            prefix = entry if entry.endswith(os.sep) else entry + os.sep
            for name in listing.names:
                if name.endswith(".dist-info") and name in listing.dirs:
                    dists.append(self._dist(index, entry, prefix + name, "dist-info", listing))
                elif name.endswith(".egg-info"):
                    dists.append(self._dist(index, entry, prefix + name, "egg-info", listing))
                elif name.endswith(".egg-link"):
                    dists.append(self._egg_link(index, entry, name))
        self._link_editables(dists)
        return dists

    def _zip_dists(self, index, entry, listing):
        """Distributions inside a zip on sys.path (importlib.metadata finds these too)."""
        out = []
        importer = listing.importer
        for name in listing.names:
            fmt = "dist-info" if name.endswith(".dist-info") else ("egg" if name == "EGG-INFO" else None)
            if fmt is None or name not in listing.dirs:
                continue
            meta = os.path.join(entry, name)
            dist = {"location_index": index, "location": _text(entry), "metadata_path": _text(meta),
                    "format": fmt + " (zip)", "installer": None, "editable": False}
            try:
                data = importer.get_data(os.path.join(meta, "METADATA" if fmt == "dist-info" else "PKG-INFO"))
                dist["name"], dist["version"] = _parse_name_version(data[:MAX_METADATA_HEADER_BYTES])
            except Exception as exc:
                dist.update(_error(exc))
            if not dist.get("name"):
                dist["metadata_missing"] = True
                dist["name"] = name.rsplit(".", 1)[0].partition("-")[0]
            out.append(dist)
        return out

    def _link_editables(self, dists):
        """Tell each editable dist where its code lives: its .pth paths or finder map.

        The .pth files are those the dist's RECORD names (every PEP 660
        backend: setuptools' ``__editable__.*``, hatchling's
        ``_editable_impl_*``, flit's, pdm-backend's, poetry-core's), else
        setuptools' naming convention.
        """
        by_file, by_key = {}, {}
        for record in getattr(self, "_pth_report", None) or ():
            path = record.get("file") or ""
            by_file[path] = record
            base = os.path.basename(path)
            if base.startswith("__editable__.") and base.endswith(".pth"):
                stem = base[len("__editable__."):-len(".pth")]
                by_key[(record.get("dir"), _canonical(stem.rsplit("-", 1)[0]))] = record
        for dist in dists:
            if not dist.get("editable") or dist.get("format") == "egg-link":
                continue
            location = dist.get("location") or ""
            records = [by_file[_text(os.path.join(location, n))] for n in dist.get("record_pth") or ()
                       if _text(os.path.join(location, n)) in by_file]
            if not records:
                record = by_key.get((location, _canonical(dist.get("name") or "")))
                records = [record] if record is not None else []
            if not records:
                continue
            dist["editable_pth"] = records[0].get("file")
            paths = [l.get("target") for r in records for l in r.get("lines") or () if l.get("kind") == "path"]
            finders = [l["editable_finder"] for r in records for l in r.get("lines") or () if l.get("editable_finder")]
            if paths:
                dist["editable_mode"] = "pth-path"
                dist["editable_paths"] = paths
            if finders:
                dist["editable_mode"] = "finder"
                mapping = {}
                for finder in finders:
                    mapping.update(finder.get("mapping") or {})
                dist["editable_mapping"] = mapping
                # RECORD only names the finder module; the real top-level names are the map's keys.
                tops = [t for t in dist.get("top_level") or () if not t.startswith("__editable__")]
                dist["top_level"] = sorted(set(tops) | {k.split(".")[0] for k in mapping})
            links = [p for p in paths if os.path.basename(p).startswith("__editable__.")]
            if links:
                code = _code_dirs(links, dist.get("top_level") or ())
                if code:
                    # setuptools' strict mode (build/__editable__.*) links a tree of
                    # symlinks: say where the files really are.
                    dist["editable_code"] = code

    def _dist(self, index, entry, metadir, fmt, listing):
        dist = {"location_index": index, "location": _text(entry), "metadata_path": _text(metadir), "format": fmt}
        try:
            if fmt == "egg-info" and not os.path.isdir(metadir):
                metafile = metadir
            else:
                metafile = metadir + ("/METADATA" if fmt == "dist-info" else "/PKG-INFO")
            parsed = None
            if fmt == "dist-info":
                parsed = self._dist_info_cached(metadir)
                name, version = parsed["name"], parsed["version"]
            else:
                name, version = _read_name_version(metafile)
            if not name:
                base = os.path.basename(metadir).rsplit(".", 1)[0]
                name, _, version_guess = base.partition("-")
                dist["metadata_missing"] = True
                version = version or version_guess.split("-")[0] or None
            dist["name"] = name
            dist["version"] = version
            if parsed is not None:
                for key in ("installer", "editable", "direct_url", "top_level", "record_files", "record_pth"):
                    if key in parsed:
                        dist[key] = parsed[key]
                present = listing.name_set()
                missing = sorted(name for name in parsed["record_tops"] if name not in present)
                if missing:
                    dist["missing_files"] = missing
            else:
                dist["installer"] = None
                dist["editable"] = False
                tl = os.path.join(metadir, "top_level.txt") if os.path.isdir(metadir) else None
                if tl and os.path.exists(tl):
                    dist["top_level"] = [t.strip() for t in _read_text(tl, 64 * 1024).splitlines() if t.strip()]
        except Exception as exc:
            dist.update(_error(exc))
            dist.setdefault("name", os.path.basename(metadir))
        return dist

    def _dist_info_cached(self, metadir):
        """Parsed facts of one .dist-info directory, cached per interpreter.

        A probe rebuilds its report every few seconds in a long-lived process;
        re-reading METADATA, INSTALLER and RECORD of every distribution was
        half of that cost.  pip and uv replace a .dist-info directory's files
        on every (re)install, which changes the directory's mtime, so one stat
        validates the entry.
        """
        # A foreign run (report --python) collects once: no cache, no stat.
        foreign = self.options.get("foreign")
        stamp = None
        if not foreign:
            try:
                stamp = os.stat(metadir).st_mtime_ns
            except OSError:
                pass
            cached = _DIST_INFO_CACHE.get(metadir)
            if cached is not None and stamp is not None and cached[0] == stamp:
                return cached[1]
        name, version = _read_name_version(metadir + "/METADATA")
        record_text = _read_record(metadir)
        installer = _installer_from_record(record_text, metadir)
        parsed = {"name": name, "version": version,
                  "installer": installer if installer is not None else _first_line(metadir + "/INSTALLER"),
                  "editable": False}
        top, tops, record_files, mentions_direct = self._record(metadir, record_text)
        # pip and uv list direct_url.json in RECORD: skip a stat per
        # distribution unless RECORD names it (or there is no RECORD).
        if mentions_direct or record_files == 0:
            try:
                text = _read_text(metadir + "/direct_url.json", 64 * 1024)
            except OSError:
                text = None
            if text is not None:
                parsed["editable"] = '"editable":true' in text.replace(" ", "")
                parsed["direct_url"] = self.masker.text(_extract_json_str(text, "url") or "")
        parsed["top_level"] = top
        parsed["record_tops"] = tops
        pths = [t for t in tops if t.endswith(".pth")]
        if pths:
            parsed["record_pth"] = pths
        parsed["record_files"] = record_files
        if stamp is not None and not foreign:
            if len(_DIST_INFO_CACHE) > 50000:
                _DIST_INFO_CACHE.clear()
            _DIST_INFO_CACHE[metadir] = (stamp, parsed)
        return parsed

    def _record(self, metadir, text=None):
        """Top-level names from RECORD: (module names, every top-level entry, line count, names direct_url.json).

        Only top-level names are later checked against the directory listing
        we already have: a stat per file would cost too much at 2,000 dists.
        *text*: RECORD's content when the caller has read it already.
        """
        if text is None:
            text = _read_record(metadir)
        if text is None:
            return [], [], 0, False
        metaname = os.path.basename(metadir)
        tops = {}
        if "\0" in text:
            # Not a RECORD (a device, a binary file): its "names" would fill the report.
            self.skip("record", "RECORD files that are not text (a NUL byte) were ignored")
            return [], [], 0, False
        lines = text.splitlines()
        count = len(lines) - lines.count("")
        # Per distinct first path component rather than per line: a big
        # package lists thousands of files under a few top-level names.
        # ("../x" gives "..", "/abs" gives "": both outside site-packages.)
        for first in {line.partition("/")[0] for line in lines}:
            head = first.split(",", 1)[0].strip('"')
            if not head or head == ".." or head.startswith(metaname):
                continue
            if len(head) > MAX_NAME_CHARS or len(tops) >= MAX_RECORD_TOPS:
                self.skip("record_names", "RECORD top-level names past %d per distribution (or longer than %d "
                          "characters) were ignored" % (MAX_RECORD_TOPS, MAX_NAME_CHARS))
                continue
            if head == "__pycache__" or head.endswith(".pth") or head.endswith(".dist-info"):
                if head.endswith(".pth"):
                    tops.setdefault(head, False)
                continue
            tops.setdefault(head, True)
        modules = []
        for name, counts in tops.items():
            if not counts:
                continue
            mod = _module_name(name, "." not in name, _ext_suffixes())
            if mod is not None:
                modules.append(mod[0])
        return sorted(set(modules)), sorted(tops), count, "direct_url.json" in text

    def _egg_link(self, index, entry, name):
        """A ``setup.py develop`` install: ``<name>.egg-link`` names the project directory.

        Its metadata is the ``<name>.egg-info`` in that directory (which
        easy-install.pth puts on sys.path): that gives the version.
        """
        path = os.path.join(entry, name)
        dist = {"location_index": index, "location": _text(entry), "metadata_path": _text(path),
                "format": "egg-link", "name": name[: -len(".egg-link")], "version": None,
                "installer": None, "editable": True, "editable_mode": "egg-link"}
        try:
            lines = _read_text(path, 4096).splitlines()
            target = os.path.normpath(os.path.join(entry, lines[0].strip()))
            dist["editable_target"] = _text(target)
            dist["editable_paths"] = [_text(target)]
        except (OSError, IndexError) as exc:
            dist["error"] = "%s" % exc
            return dist
        want = _canonical(dist["name"])
        try:
            names = os.listdir(target)
        except OSError:
            return dist
        for other in names:
            if other.endswith(".egg-info") and _canonical(other[:-9].partition("-")[0]) == want:
                meta = os.path.join(target, other)
                meta_file = os.path.join(meta, "PKG-INFO") if os.path.isdir(meta) else meta
                got_name, got_version = _read_name_version(meta_file)
                dist["egg_info"] = _text(meta)
                dist["name"] = got_name or dist["name"]
                dist["version"] = got_version
                tl = os.path.join(meta, "top_level.txt")
                if os.path.isfile(tl):
                    dist["top_level"] = [t.strip() for t in _read_text(tl, 64 * 1024).splitlines() if t.strip()]
                break
        return dist

    # -- module providers and shadowing ------------------------------------------

    def providers(self):
        """{top-level name: [provider, ...]} in sys.path order."""
        cached = getattr(self, "_providers", None)
        if cached is not None:
            return cached
        suffixes = _ext_suffixes()
        found = {}
        seen = set()
        for index, raw in enumerate(list(sys.path)):
            if not isinstance(raw, str):
                continue
            entry = os.path.normpath(raw) if raw else _cwd()
            # Identity by real path: a repeated or symlinked entry provides
            # the same files again, it does not hide them.
            real = self._real(entry)
            if real in seen:
                continue
            seen.add(real)
            listing = self._listing(entry)
            if listing.kind not in ("dir", "zip"):
                continue
            dirs = listing.dirs
            seen_here = {}
            prefix = entry if entry.endswith(os.sep) else entry + os.sep
            for name in listing.names:
                mod = _module_name(name, name in dirs, suffixes)
                if mod is None:
                    continue
                modname, kind = mod
                prior = seen_here.get(modname)
                # Within one directory a package beats a module (FileFinder order).
                if prior is not None and prior["kind"] == "package":
                    continue
                seen_here[modname] = {"index": index, "entry": _text(entry), "kind": kind, "path": _text(prefix + name)}
            for modname, prov in seen_here.items():
                found.setdefault(modname, []).append(prov)
        # setuptools appends its editable finder to sys.meta_path, after the
        # PathFinder: any copy of the name on sys.path wins over the editable.
        for finder in getattr(self, "_finders", None) or ():
            for modname, target in (finder.get("mapping") or {}).items():
                if "." in modname:
                    continue
                found.setdefault(modname, []).append({
                    "index": None, "entry": "editable finder %s" % finder.get("module"),
                    "kind": "editable_finder", "path": target,
                })
        self._providers = found
        return found

    def _classify_packages(self, provs):
        for prov in provs:
            if prov["kind"] == "package" and "regular" not in prov:
                path = prov["path"]
                if prov["entry"].endswith(".zip") or prov["entry"].endswith(".egg") and os.path.isfile(prov["entry"]):
                    prov["regular"] = True
                    continue
                regular = False
                for init in ("__init__.py", "__init__.pyc") + tuple("__init__" + s for s in _ext_suffixes()):
                    if os.path.exists(os.path.join(path, init)):
                        regular = True
                        break
                prov["regular"] = regular
                if not regular:
                    prov["kind"] = "namespace"
                    prov["has_code"] = _has_python_code(path)

    def shadowed(self):
        providers = self.providers()
        stdlib_names = set(getattr(sys, "stdlib_module_names", ()) or ())
        paths = self._paths()
        stdlib_dirs = {os.path.normpath(paths.get("stdlib") or ""), os.path.normpath(paths.get("platstdlib") or "")}
        stdlib_dirs |= {os.path.join(d, "lib-dynload") for d in list(stdlib_dirs)}
        if not stdlib_names:
            for d in stdlib_dirs:
                for prov_name, provs in providers.items():
                    if any(p["entry"] == d for p in provs):
                        stdlib_names.add(prov_name)
        modules_out = []
        for name, provs in providers.items():
            if len(provs) < 2:
                continue
            provs = _distinct_files(provs)
            if len(provs) < 2:
                continue
            self._classify_packages(provs)
            # A directory without Python code (a venv, docs/, build/ in the
            # cwd) is not a namespace portion anyone meant: leave it out.
            provs = [p for p in provs if p["kind"] != "namespace" or p.get("has_code")]
            if len(provs) < 2:
                continue
            regular = [p for p in provs if p["kind"] != "namespace"]
            namespace = [p for p in provs if p["kind"] == "namespace"]
            style = _namespace_style(regular[0]) if regular else None
            if style is not None:
                # The winning __init__ extends its own __path__ (pkgutil /
                # pkg_resources): every portion is importable, nothing is hidden.
                modules_out.append({
                    "name": name, "kind": "namespace_split", "style": style, "winner": regular[0], "losers": [],
                    "portions": provs, "stdlib": name in stdlib_names, "loaded_file": _loaded_file(name),
                })
                continue
            if len(regular) == 0:
                # Only namespace portions: they merge, nothing is hidden.
                if len(namespace) > 1:
                    modules_out.append({
                        "name": name, "kind": "namespace_split", "winner": None, "losers": [],
                        "portions": namespace, "stdlib": name in stdlib_names,
                        "loaded_file": _loaded_file(name),
                    })
                continue
            winner = regular[0]
            losers = [p for p in provs if p is not winner]
            if not losers:
                continue
            item = {
                "name": name,
                "kind": "namespace_poisoned" if namespace else "module",
                "winner": winner,
                "losers": losers,
                "stdlib": name in stdlib_names,
                "winner_is_stdlib": winner["entry"] in stdlib_dirs,
                "loaded_file": _loaded_file(name),
            }
            modules_out.append(item)
        dists = self.distributions_cache()
        by_name = {}
        for dist in dists:
            key = _canonical(dist.get("name") or "")
            if key:
                by_name.setdefault(key, []).append(dist)
        dists_out = []
        for key, copies in by_name.items():
            if len({c.get("location_index") for c in copies}) < 2:
                continue  # two metadata dirs in one entry: not shadowing
            copies = _distinct_dists(sorted(copies, key=lambda d: d.get("location_index", 0)))
            if len({c.get("location_index") for c in copies}) < 2:
                continue
            keys = ("version", "location", "location_index", "metadata_path", "editable")
            item = {
                "name": copies[0].get("name"),
                "winner": {k: copies[0].get(k) for k in keys},
                "losers": [{k: c.get(k) for k in keys} for c in copies[1:]],
                "versions_differ": len({c.get("version") for c in copies}) > 1,
            }
            # Which copy the running code actually came from, when imported.
            tops = sorted({t for c in copies for t in (c.get("top_level") or ())})
            loaded = {}
            for top in tops:
                filename = _loaded_file(top)
                if filename:
                    where = None
                    for c in copies:
                        loc = c.get("location") or ""
                        if filename.startswith(loc.rstrip(os.sep) + os.sep):
                            where = c.get("location_index")
                            break
                    loaded[top] = {"file": filename, "copy_index": where}
            item["top_level"] = tops
            item["loaded"] = loaded
            dists_out.append(item)
        modules_out.sort(key=lambda m: m["name"])
        dists_out.sort(key=lambda d: _canonical(d["name"] or ""))
        return {"modules": modules_out, "distributions": dists_out}

    def distributions_cache(self):
        cached = getattr(self, "_dists", None)
        if cached is None:
            cached = self._dists = self.distributions()
        return cached

    # -- loaded modules ------------------------------------------------------------

    def modules(self):
        """Top-level modules loaded in this interpreter and where from.

        Compares each with what sys.path resolves to *now* (stale imports),
        and flags source files changed after the process started.
        """
        providers = self.providers()
        start = self._process_start()
        suffixes = _ext_suffixes()
        loaded = []
        extensions = []
        wsgi_scripts = []
        for name, module in list(sys.modules.items()):
            if module is None:
                continue
            try:
                filename = getattr(module, "__file__", None)
            except Exception:
                filename = None
            if name.startswith(WSGI_SCRIPT_PREFIXES):
                wsgi_scripts.append({"module": name, "file": _text(filename) if filename else None})
                continue
            if filename and isinstance(filename, str) and filename.endswith(tuple(suffixes)):
                extensions.append({"module": name, "file": _text(filename)})
            if "." in name or not filename or not isinstance(filename, str):
                continue
            item = {"name": name, "file": _text(filename)}
            provs = providers.get(name)
            if provs:
                self._classify_packages(provs)
                regular = [p for p in provs if p["kind"] != "namespace"]
                expected = regular[0] if regular else provs[0]
                item["resolves_to"] = expected["path"]
                loaded_root = filename
                if os.path.basename(filename).startswith("__init__."):
                    loaded_root = os.path.dirname(filename)
                item["matches_sys_path"] = _same_file(loaded_root, expected["path"])
            if start is not None:
                try:
                    mtime = os.stat(filename).st_mtime
                    # The start time is only known to ~10 ms and file systems
                    # round mtimes: a second of slack avoids flagging files
                    # written just before the process started.
                    if mtime > start + 1.0:
                        item["modified_after_start"] = True
                        item["mtime"] = mtime
                except OSError:
                    item["file_missing"] = True
            loaded.append(item)
        loaded.sort(key=lambda m: m["name"])
        return {
            "count": len(sys.modules),
            "process_start": start,
            "top_level": loaded,
            "extensions": sorted(extensions, key=lambda e: e["module"]),
            "wsgi_scripts": wsgi_scripts,
        }

    def _process_start(self):
        global _PROCESS_START
        if _PROCESS_START is not None:
            return _PROCESS_START
        try:
            with open("/proc/self/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            ticks = int(fields[19])
            hz = os.sysconf("SC_CLK_TCK")
            with open("/proc/uptime", "rb") as handle:
                uptime = float(handle.read().split()[0])
            import time

            _PROCESS_START = time.time() - uptime + ticks / float(hz)
        except (OSError, ValueError, IndexError):
            _PROCESS_START = None
        return _PROCESS_START

    # -- identity ----------------------------------------------------------------

    def identity(self):
        # /identity answers every request with this: scanning sys.modules and
        # asking the interpreter for its config each time cost more than the
        # request itself.  Nothing here changes in a process until a module is
        # imported or removed (ppid aside), so it is kept per (pid, modules
        # loaded, last module, masking key) and copied out.
        modules = sys.modules
        last = next(reversed(modules), None) if sys.version_info >= (3, 8) else None
        key = (os.getpid(), len(modules), last, self.masker._key, bool(self.options.get("foreign")))
        cached = _IDENTITY_CACHE.get("entry")
        if cached is None or cached[0] != key:
            cached = (key, self._identity_live(), [])
            _IDENTITY_CACHE["entry"] = cached
        ident = dict(cached[1])
        ident["ppid"] = os.getppid()
        return ident

    def identity_masked(self):
        """:meth:`identity` through this collector's masker, masked once per cached identity (the probe's /identity)."""
        ident = self.identity()
        cached = _IDENTITY_CACHE["entry"]
        if not cached[2]:
            # ppid (a number) is the only value that changes between calls: masking
            # never touches numbers, so the masked copy stays valid with a fresh one.
            cached[2].append(self.masker.scrub(cached[1]))
        masked = dict(cached[2][0])
        masked["ppid"] = ident["ppid"]
        return masked

    def _identity_live(self):
        ident = {"pid": os.getpid(), "ppid": os.getppid()}
        ident.update(_interpreter_id())
        server = {"kind": "other"}
        mod_wsgi = sys.modules.get("mod_wsgi")
        uwsgi = sys.modules.get("uwsgi")
        if mod_wsgi is not None and hasattr(mod_wsgi, "process_group"):
            server = {
                "kind": "mod_wsgi",
                "version": ".".join(str(v) for v in getattr(mod_wsgi, "version", ()) or ()),
                "process_group": getattr(mod_wsgi, "process_group", None),
                "application_group": getattr(mod_wsgi, "application_group", None),
                "maximum_processes": getattr(mod_wsgi, "maximum_processes", None),
                "threads_per_process": getattr(mod_wsgi, "threads_per_process", None),
                "server_version": _text(getattr(mod_wsgi, "server_version", "") or "") or None,
            }
            server["mode"] = "daemon" if server["process_group"] else "embedded"
            server["main_interpreter_group"] = server["application_group"] == ""
        elif uwsgi is not None:
            server = {"kind": "uwsgi"}
            for attr, call in (("worker_id", True), ("numproc", False), ("version", False), ("mule_id", True)):
                try:
                    value = getattr(uwsgi, attr)
                    value = value() if call else value
                    server[attr] = _text(value) if isinstance(value, bytes) else value
                except Exception:
                    pass
            try:
                opts = {}
                for key, value in dict(getattr(uwsgi, "opt", {}) or {}).items():
                    key = _text(key)
                    values = value if isinstance(value, list) else [value]
                    shown = []
                    for v in values:
                        v = _text(v) if isinstance(v, (bytes, str)) else v
                        if isinstance(v, str):
                            v = self.masker.mark(v) if _looks_secret_name(key) else self.masker.uwsgi_option(key, v)
                        shown.append(v)
                    opts[key] = shown if isinstance(value, list) else shown[0]
                server["options"] = opts
            except Exception as exc:
                server["options_error"] = _error(exc)["error"]
        elif "gunicorn" in sys.modules:
            gunicorn = sys.modules["gunicorn"]
            server = {"kind": "gunicorn", "version": getattr(gunicorn, "__version__", None),
                      "worker_pid": os.getpid(), "arbiter_pid": os.getppid()}
            # GUNICORN worker identity lives in the arbiter; what we have is the process title.
            server["worker_class"] = _gunicorn_worker_class()
        elif "waitress" in sys.modules:
            server = {"kind": "waitress", "version": None}
        elif "werkzeug.serving" in sys.modules:
            server = {"kind": "werkzeug"}
        elif self.options.get("foreign"):
            server = {"kind": "none", "detail": "collected by `venvprobe report --python` in a fresh process"}
        ident["server"] = server
        # The interpreter's own identity also covers what is loaded in it:
        # third-party C extensions (sub-interpreter trouble) and the WSGI
        # scripts mod_wsgi loaded here (several apps sharing it).
        stdlib = os.path.normpath(self._paths().get("stdlib") or "") + os.sep
        suffixes = _ext_suffixes()
        third, scripts = [], []
        for name, module in list(sys.modules.items()):
            if name.startswith(WSGI_SCRIPT_PREFIXES):
                scripts.append(name)
                continue
            try:
                filename = getattr(module, "__file__", None) if module is not None else None
            except Exception:  # a module object whose attribute access raises
                continue
            if isinstance(filename, str) and filename.endswith(suffixes):
                if "site-packages" in filename or "dist-packages" in filename or \
                        not (filename.startswith(stdlib) or "lib-dynload" in filename):
                    third.append(name)
        ident["third_party_extensions"] = sorted(third)
        ident["wsgi_script_modules"] = sorted(scripts)
        try:
            ident["interpreter_config"] = _interpreter_config(ident.get("main_interpreter"))
        except Exception as exc:
            ident["interpreter_config"] = _error(exc)
        if server.get("kind") == "mod_wsgi":
            # mod_wsgi 6 exposes no GIL attribute: what its module says is these.
            mod_wsgi = sys.modules.get("mod_wsgi")
            for attr in ("description", "mpm_name", "build_date"):
                value = getattr(mod_wsgi, attr, None)
                if isinstance(value, (str, bytes)):
                    server[attr] = _text(value)
        try:
            ident["extension_support"] = self._extension_support(ident.get("interpreter_config") or {})
        except Exception as exc:
            ident["extension_support"] = _error(exc)
        return ident

    def _extension_support(self, config):
        """Installed and loaded C extensions this interpreter may refuse.

        Only looked at where the interpreter checks (own GIL: PEP 489
        multi-phase init with ``Py_mod_multiple_interpreters`` required) or
        runs free-threaded: elsewhere every extension loads and the scan
        would only cost time.  Static, from each file's dynamic symbols:
        nothing is imported (see ``venvprobe check-extensions`` for the
        opt-in import test in a throwaway process).
        """
        checks = config.get("check_multi_interp_extensions")
        free = config.get("free_threaded_build")
        out = {"checked": bool(checks or free), "reason": None, "modules": [], "truncated": False}
        if not out["checked"]:
            out["reason"] = "this interpreter loads any extension (shared GIL, no multi-interpreter check)"
            return out
        out["reason"] = "own GIL: extensions must declare multi-interpreter support" if checks else \
            "free-threaded build: extensions must be built for it and declare Py_mod_gil"
        suffixes = _ext_suffixes()
        loaded = {}
        for name, module in list(sys.modules.items()):
            try:
                filename = getattr(module, "__file__", None) if module is not None else None
            except Exception:
                continue
            if isinstance(filename, str) and filename.endswith(suffixes):  # realpath costs: extensions only
                loaded[os.path.realpath(filename)] = name
        # In a venv platstdlib names the venv, stdlib the base: os.py's directory is the truth.
        stdlibs = set(os.path.normpath(p) for p in (self._paths().get("platstdlib"), self._paths().get("stdlib"),
                                                    os.path.dirname(os.__file__)) if p)
        seen = set()
        budget = [MAX_EXTENSION_FILES]
        for entry in list(sys.path):
            if not isinstance(entry, str) or not entry or not os.path.isdir(entry):
                continue
            entry = os.path.normpath(entry)
            if any(entry == lib or entry.startswith(lib + os.sep) for lib in stdlibs) \
                    and "site-packages" not in entry and "dist-packages" not in entry:
                continue  # the standard library's own extensions are built for this interpreter
            for path in _walk_extensions(entry, budget):
                real = os.path.realpath(path)
                if real in seen:
                    continue
                seen.add(real)
                init = _cached_init_kind(path)
                item = {"file": _text(path), "site_dir": _text(entry),
                        "package": _text(os.path.relpath(path, entry).split(os.sep)[0].split(".")[0]),
                        "init": init, "loaded": loaded.get(real)}
                base = os.path.basename(path)
                if free and not base.endswith(tuple(s for s in suffixes if s != ".so")) \
                        and (".abi3." in base or ".cpython-" in base):
                    # untested here: no free-threaded build on the test machines
                    item["abi_mismatch"] = True
                if checks and init == "single-phase":
                    item["refused"] = "single-phase init: never loads in an interpreter that checks"
                elif item.get("abi_mismatch"):
                    item["refused"] = "not built for this free-threaded ABI"
                out["modules"].append(item)
            if budget[0] <= 0:
                out["truncated"] = True
                break
        out["modules"].sort(key=lambda m: m["file"])
        return out

    # -- process -----------------------------------------------------------------

    def process(self):
        if self.options.get("use_psutil", True) and not self.options.get("foreign"):
            try:
                import psutil  # noqa: F401  (venvprobe's own dependency in-process)
            except Exception as exc:  # built for another Python, refused by a sub-interpreter...
                psutil, failure = None, exc
            if psutil is not None:
                try:
                    return self._process_psutil(psutil)
                except Exception as exc:
                    failure = exc
            # The report goes on from /proc, and says why.
            info = self._process_proc()
            info["psutil_error"] = _error(failure)["error"]
            return info
        return self._process_proc()

    def _process_psutil(self, psutil):
        proc = psutil.Process()
        with proc.oneshot():
            info = {
                "source": "psutil",
                "pid": proc.pid,
                "ppid": proc.ppid(),
                "name": proc.name(),
                "user": _safe(proc.username),
                "uids": list(proc.uids()),
                "gids": list(proc.gids()),
                "create_time": proc.create_time(),
                "threads": proc.num_threads(),
                "rss": proc.memory_info().rss,
                "cwd": _text(_safe(proc.cwd) or ""),
                "cmdline": self.masker.argv(_safe(proc.cmdline) or []),
            }
        chain = []
        parent = _safe(proc.parent)
        while parent is not None and len(chain) < 12:
            chain.append({"pid": parent.pid, "name": _safe(parent.name)})
            parent = _safe(parent.parent)
        info["parents"] = chain
        return info

    def _process_proc(self):
        info = {"source": "/proc", "pid": os.getpid(), "ppid": os.getppid(), "uids": None}
        try:
            info["uids"] = [os.getuid(), os.geteuid()]
            info["gids"] = [os.getgid(), os.getegid()]
            import pwd

            info["user"] = pwd.getpwuid(os.geteuid()).pw_name
        except (KeyError, ImportError, OSError):
            info.setdefault("user", None)
        status = _proc_status(os.getpid())
        info["name"] = status.get("Name")
        info["threads"] = _int(status.get("Threads"))
        rss = status.get("VmRSS", "")
        info["rss"] = _int(rss.split()[0]) * 1024 if rss else None
        info["create_time"] = self._process_start()
        try:
            info["cwd"] = _text(os.getcwd())
        except OSError:
            info["cwd"] = None
        try:
            with open("/proc/self/cmdline", "rb") as handle:
                args = handle.read().split(b"\0")
            info["cmdline"] = self.masker.argv([a for a in args if a])
        except OSError:
            info["cmdline"] = None
        chain = []
        pid = os.getppid()
        while pid and pid > 0 and len(chain) < 12:
            st = _proc_status(pid)
            if not st:
                break
            chain.append({"pid": pid, "name": st.get("Name")})
            pid = _int(st.get("PPid"))
        info["parents"] = chain
        return info

    # -- environment -------------------------------------------------------------

    def environment(self):
        shown = {}
        for name, value in os.environ.items():
            if name in _ENV_EXACT or name.startswith(_ENV_PREFIXES):
                shown[name] = self.masker.env_var(name, value)
        return {"variables": dict(sorted(shown.items())), "policy": "allowlist; secret-looking values masked with a keyed hash"}


# --------------------------------------------------------------------------
# module-level helpers used by the collector


_EXT = None


def _ext_suffixes():
    global _EXT
    if _EXT is None:
        # _imp is built in: an app's importlib.py on sys.path cannot break it.
        import _imp

        _EXT = tuple(_imp.extension_suffixes())
    return _EXT


def parse_pyvenv_cfg(path, masker=None):
    """Parse a pyvenv.cfg the way site.py does (key = value); None if unreadable.

    Values go through *masker* (a ``command`` line may carry an index URL with a token).
    """
    try:
        text = _read_text(path, 64 * 1024)
    except OSError as exc:
        if os.path.exists(path):
            return {"path": _text(path), "error": _error(exc)["error"], "readable": False}
        return None
    if masker is None:
        masker = _Masker(os.environ.get("VENVPROBE_REDACT_KEY"))
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            key = key.strip().lower()
            value = value.strip()
            if _looks_secret_name(key):
                value = masker.mark(value)
            elif key == "command":
                value = masker.cmdline(value)
            else:
                value = masker.value(value)
            values[key] = value
    home = values.get("home")
    return {
        "path": _text(path),
        "readable": True,
        "home": home,
        "home_exists": os.path.isdir(home) if home else None,
        "version": values.get("version") or values.get("version_info"),
        "include_system_site_packages": values.get("include-system-site-packages", "false").lower() == "true",
        "creator": "virtualenv" if "virtualenv" in values else ("uv" if "uv" in values else "venv"),
        "creator_version": values.get("virtualenv") or values.get("uv"),
        "executable": values.get("executable"),
        "command": values.get("command"),
        "values": values,
    }


def _editable_finder(sitedir, pth_name, line):
    """The module map of a setuptools editable finder a ``.pth`` import line installs.

    setuptools writes ``import __editable___<dist>_finder; ...install()`` and a
    sibling module holding ``MAPPING = {top-level name: source dir}``.  Only
    that literal is read (never imported): ``ast`` is loaded only here.
    """
    words = line.split()
    if len(words) < 2:
        return None
    module = words[1].rstrip(";")
    if not module.startswith("__editable__") or not module.isidentifier():
        return None
    path = os.path.join(sitedir, module + ".py")
    out = {"module": module, "file": _text(path), "mapping": {}}
    try:
        text = _read_text(path, 256 * 1024)
    except OSError as exc:
        out["error"] = _error(exc)["error"]
        return out
    for src_line in text.splitlines():
        if src_line.startswith("MAPPING") and "=" in src_line:
            try:
                import ast

                value = ast.literal_eval(src_line.split("=", 1)[1].strip())
                out["mapping"] = {_text(k): _text(v) for k, v in dict(value).items()}
            except Exception as exc:  # a hand-edited finder must not sink the report
                out["error"] = _error(exc)["error"]
            break
    return out


def _cwd():
    """The current directory, or a path that cannot exist when it was deleted."""
    try:
        return os.getcwd()
    except OSError:
        return "/(current directory was deleted)"


def _has_python_code(path, depth=2):
    """Does directory *path* hold a module or a package (is it a plausible namespace portion)?

    Nested namespaces (``google/cloud/storage/__init__.py``) are looked into
    *depth* levels deep.
    """
    suffixes = (".py", ".pyc") + _ext_suffixes()
    try:
        with os.scandir(path) as it:
            for count, entry in enumerate(it):
                if count > 2000:
                    return True  # huge: assume code rather than scan on
                name = entry.name
                if name.endswith(suffixes):
                    return True
                if name.isidentifier() and entry.is_dir():
                    if os.path.exists(os.path.join(entry.path, "__init__.py")):
                        return True
                    if depth > 1 and _has_python_code(entry.path, depth - 1):
                        return True
    except OSError:
        return False
    return False


def _realpath(path):
    try:
        return os.path.realpath(path)
    except (OSError, RuntimeError, ValueError):  # symlink loops on old Pythons, NUL bytes
        return path


def _server_name():
    """The server this process runs under, from what it imported (no HTTP request needed)."""
    if "mod_wsgi" in sys.modules:
        return "mod_wsgi"
    if "uwsgi" in sys.modules:
        return "uwsgi"
    if "gunicorn" in sys.modules:
        return "gunicorn"
    return None


def _script_dirs():
    """({real paths}, how): what the interpreter itself put first on sys.path for its program.

    CPython prepends dirname(realpath(script)) for a script or console
    script, the working directory for ``-m``, ``''`` for ``-c`` and
    interactive use, the path itself for a zip or directory run as the
    program; nothing under ``-P``/PYTHONSAFEPATH except that last case.
    ``sys.argv[0]`` is as typed (often relative), so it is resolved here.
    """
    out = set()
    argv = getattr(sys, "argv", None) or [""]
    argv0 = argv[0] if isinstance(argv[0], str) else ""
    main = sys.modules.get("__main__")
    try:
        spec = getattr(main, "__spec__", None)
        mfile = getattr(main, "__file__", None)
    except Exception:  # a __main__ whose attribute access raises
        spec = mfile = None
    try:
        if argv0 and (os.path.isdir(argv0) or (os.path.isfile(argv0) and _read_bytes(argv0, 4) == b"PK\x03\x04")):
            out.add(_realpath(argv0))
            return out, "zip file or directory run as the program (python %s)" % _text(argv0)
    except (OSError, ValueError):
        pass
    if getattr(sys.flags, "safe_path", False):
        return out, None
    name = getattr(spec, "name", None) if spec is not None else None
    if isinstance(name, str) and name != "__main__" and isinstance(mfile, str):
        root = os.path.abspath(mfile)
        for _ in range(name.count(".") + 1):
            root = os.path.dirname(root)
        out.add(_realpath(root))
        return out, "working directory at start-up (python -m %s)" % _text(name)
    for candidate in (argv0, mfile):
        try:
            if isinstance(candidate, str) and candidate and os.path.isfile(candidate):
                out.add(os.path.dirname(_realpath(candidate)))
        except ValueError:
            continue
    return out, "directory of the script being run (%s)" % _text(os.path.basename(argv0) or "?")


def _script_index(path, norms, script_reals, pythonpath, stdlib_marks, server):
    """Index of the entry the interpreter itself put first for its program, or None.

    CPython inserts it at 0 after site.py ran: it sits just before what
    start-up added (.pth insertions, PYTHONPATH, the standard library), and
    anything before it was inserted later by code.  So the last candidate
    in that leading block is the interpreter's (``PYTHONPATH=.`` and a
    script inserting its own directory both repeat it).  The interpreter
    writes the resolved directory: an exact match beats a symlinked copy.
    """
    stdlib, platstdlib, zipname = stdlib_marks
    first_std = None
    for index, norm in enumerate(norms):
        if norm is not None and (norm in (stdlib, platstdlib) or os.path.basename(norm) == zipname):
            first_std = index
            break
    if first_std is None:
        block = len(norms)
    else:
        # The PYTHONPATH entries right before the standard library are not it.
        block = first_std
        for item in reversed(pythonpath):
            if block > 0 and norms[block - 1] == item:
                block -= 1
    leading = range(block - 1, -1, -1)
    if script_reals:
        for index in leading:
            if norms[index] in script_reals:
                return index
        for index in leading:
            if norms[index] is not None and path[index] and _realpath(norms[index]) in script_reals:
                return index
    if server not in ("gunicorn", "uwsgi"):
        for index in leading:
            if path[index] == "":  # -c, interactive: the current directory
                return index
    return None


def _other_python_site(norm, this_xy):
    """Facts about *norm* when it is .../lib/pythonX.Y/site-packages of another X.Y, else None."""
    parts = norm.rstrip(os.sep).split(os.sep)
    if len(parts) < 3 or parts[-1] not in ("site-packages", "dist-packages"):
        return None
    xy = parts[-2]
    if not xy.startswith("python") or xy == this_xy or "." not in xy or not xy[6:].replace(".", "").isdigit():
        return None
    out = {"python": xy[6:]}
    root = _venv_root_of_site(norm)
    if root:
        cfg = parse_pyvenv_cfg(os.path.join(root, "pyvenv.cfg")) or {}
        out["venv_root"] = _text(root)
        out["venv_version"] = cfg.get("version")
        out["venv_home"] = cfg.get("home")
    return out


def _distinct_files(provs):
    """Providers minus those that are the same file as an earlier one (symlinked copies)."""
    out, seen = [], set()
    for prov in provs:
        path = prov.get("path") or ""
        real = _realpath(path) if prov.get("index") is not None else path
        if real in seen:
            continue
        seen.add(real)
        out.append(prov)
    return out


def _namespace_style(prov):
    """"pkgutil" / "pkg_resources" when a package's __init__ extends its own __path__, else None."""
    if prov.get("kind") != "package" or prov.get("entry", "").endswith((".zip", ".egg")):
        return None
    try:
        data = _read_bytes(os.path.join(prov["path"], "__init__.py"), 16 * 1024)
    except (OSError, ValueError):
        return None
    if b"extend_path" in data:
        return "pkgutil"
    if b"declare_namespace" in data:
        return "pkg_resources"
    return None


def _distinct_dists(copies):
    """Copies of one distribution that really are distinct installations.

    The same metadata reached twice (an .egg-link and the .egg-info it points
    to) is one; so is the ``<name>.egg-info`` a build leaves in an editable
    project's source directory, beside the venv's .dist-info of the same
    version.
    """
    code = set()
    for c in copies:
        if c.get("editable"):
            for p in (c.get("editable_paths") or []) + [c.get("editable_target") or ""]:
                if p:
                    code.add(_realpath(p))
    out, seen = [], set()
    for c in copies:
        ident = _realpath(c.get("egg_info") or c.get("metadata_path") or "")
        if ident in seen:
            continue
        seen.add(ident)
        if c.get("format") == "egg-info" and not c.get("editable") and _realpath(c.get("location") or "") in code \
                and any(e.get("editable") and e.get("version") == c.get("version") for e in copies):
            continue
        out.append(c)
    return out


def _code_dirs(paths, tops):
    """{top-level name: real directory} where an editable's code is not where its path says (symlink trees)."""
    out = {}
    for base in paths:
        try:
            names = list(tops) or sorted(os.listdir(base))[:200]
        except OSError:
            continue
        for name in names:
            stem = name[:-3] if name.endswith(".py") else name
            if stem in out or not stem.isidentifier():
                continue
            for cand in (os.path.join(base, stem, "__init__.py"), os.path.join(base, stem + ".py")):
                if os.path.exists(cand):
                    # lstat first: only a symlinked file or package directory needs resolving.
                    if os.path.islink(cand) or os.path.islink(os.path.dirname(cand)):
                        real = _realpath(cand)
                        if real != os.path.normpath(cand):
                            out[stem] = _text(os.path.dirname(real))
                    break
    return out


def _venv_root_of_site(path):
    """If *path* is <root>/lib*/pythonX.Y/site-packages of a venv, return <root>."""
    parts = path.rstrip(os.sep).split(os.sep)
    if len(parts) >= 4 and parts[-1] in ("site-packages", "dist-packages") and parts[-2].startswith("python"):
        root = os.sep.join(parts[:-3])
        if os.path.isfile(os.path.join(root, "pyvenv.cfg")):
            return root
    return None


def _read_name_version(path):
    try:
        data = _read_bytes(path, MAX_METADATA_HEADER_BYTES)
    except OSError:
        return None, None
    return _parse_name_version(data)


def _parse_name_version(data):
    """Name and Version from the header of a METADATA / PKG-INFO (bytes)."""
    name = version = None
    # Only the header matters: it ends at the first empty line, before a
    # long description that can be most of the file.
    end = data.find(b"\n\n")
    if end >= 0:
        data = data[:end + 1]
    for line in data.split(b"\n"):
        if not line.strip():
            break
        if line.startswith(b"Name:"):
            name = line[5:].strip().decode("utf-8", "replace")
        elif line.startswith(b"Version:"):
            version = line[8:].strip().decode("utf-8", "replace")
        if name and version:
            break
    return name, version


def _read_record(metadir):
    """RECORD of a .dist-info directory as text, or None when it cannot be read."""
    try:
        return _read_text(metadir + "/RECORD", MAX_RECORD_BYTES)
    except OSError:
        return None


# INSTALLER files whose content RECORD's sha256 names: pip, uv and friends
# write one of these, and RECORD lists it with its hash, so the common case
# needs no open/read/close of INSTALLER (3 syscalls x every distribution).
_KNOWN_INSTALLERS = {
    "zuuue4knoyJ-UwPPXg8fezS7VCrXJQrAP7zeNuwvFQg": "pip",  # b"pip\n"
    "_tUDi_L0J6suyE-FiB8QPA6Ubo1iUrhzH5mrDLV3Kdk": "pip",
    "LDjFKbbqirilWXGia_0Uo3lsFc1zKP416eimZah7jNw": "uv",  # b"uv\n"
    "5hhM4Q4mYTT9z6QB6PGpUAW81PGNFrYrdXMj4oM_6ak": "uv",
    "vDMCLty3Y5_1M1W06R2t5QoLvwKZ7-thcdHsC6UCnPw": "conda",  # b"conda\n"
    "mW_fLwxqq2qolUAc4tTyQdR4T6XTMiHf8udQ-4wDxQ8": "poetry",  # b"poetry\n"
    "Cu-ORg10ePqxMgGegeh3l35cfvb__RJMnfYt-UFKKZk": "pdm",  # b"pdm\n"
}


def _installer_from_record(text, metadir):
    """INSTALLER's first line when RECORD gives its hash and the hash is a known one, else None."""
    if not text:
        return None
    marker = "%s/INSTALLER,sha256=" % os.path.basename(metadir)
    pos = text.find(marker)
    if pos < 0:
        return None
    start = pos + len(marker)
    return _KNOWN_INSTALLERS.get(text[start:text.find(",", start)])


def _first_line(path):
    try:
        return _read_text(path, 256).strip().splitlines()[0]
    except (OSError, IndexError):
        return None


def _extract_json_str(text, key):
    """Pull one string value out of a small JSON document without json."""
    marker = '"%s"' % key
    pos = text.find(marker)
    if pos < 0:
        return None
    start = text.find('"', text.find(":", pos + len(marker)) + 1)
    end = text.find('"', start + 1)
    return text[start + 1:end] if start >= 0 and end > start else None


def _canonical(name):
    out = []
    prev_sep = False
    for ch in name.lower():
        if ch in "-_.":
            if not prev_sep:
                out.append("-")
            prev_sep = True
        else:
            out.append(ch)
            prev_sep = False
    return "".join(out)


def _loaded_file(name):
    module = sys.modules.get(name)
    if module is None:
        return None
    try:
        filename = getattr(module, "__file__", None)
    except Exception:
        return None
    return _text(filename) if isinstance(filename, str) else None


def _same_file(loaded, expected):
    if loaded == expected:
        return True
    try:
        return os.path.realpath(loaded) == os.path.realpath(expected) or os.path.realpath(os.path.splitext(loaded)[0]) == os.path.realpath(os.path.splitext(expected)[0])
    except (OSError, RuntimeError):
        return False


_INTERPRETER_ID = []
# Per interpreter (module state): sysconfig.get_paths() and the last identity.
_SYSCONFIG_PATHS = []
_IDENTITY_CACHE = {}


def _interpreter_id():
    """The id of this (sub-)interpreter, cached: this module's state is per interpreter."""
    if not _INTERPRETER_ID:
        _INTERPRETER_ID.append(_lookup_interpreter_id())
    return dict(_INTERPRETER_ID[0])


def _lookup_interpreter_id():
    """Ask whichever interpreters module this version has."""
    # Only the names this version can have: a failed import scans every
    # sys.path entry, and `concurrent.interpreters` would leave `concurrent`
    # behind among the modules the report lists.
    if sys.version_info < (3, 13):
        names = ("_xxsubinterpreters",)
    elif sys.version_info < (3, 14):
        names = ("_interpreters",)
    else:
        names = ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters")
    for modname in names:
        try:
            module = __import__(modname, fromlist=["_"])
        except Exception:
            continue
        try:
            current = module.get_current()
            main = module.get_main()
            cur_id = getattr(current, "id", current)
            main_id = getattr(main, "id", main)
            if isinstance(cur_id, tuple):
                cur_id = cur_id[0]
            if isinstance(main_id, tuple):
                main_id = main_id[0]
            cur_id, main_id = int(cur_id), int(main_id)
            return {"interpreter_id": cur_id, "main_interpreter": cur_id == main_id, "interpreter_id_source": modname}
        except Exception:
            continue
    return {"interpreter_id": None, "main_interpreter": None, "interpreter_id_source": None}


MAX_EXTENSION_FILES = 5000
MAX_DYNSTR_BYTES = 8 << 20


def _interpreter_config(main):
    """GIL mode and PEP 684 configuration of the interpreter this code runs in.

    ``gil``: "shared" (the main interpreter's GIL, which every legacy
    sub-interpreter shares), "own" (a PEP 684 sub-interpreter with its own
    GIL) or "none" (free-threaded build with the GIL disabled).
    """
    import sysconfig

    out = {"gil": None, "gil_source": None, "free_threaded_build": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
           "gil_enabled": None, "config": None, "config_source": None,
           "check_multi_interp_extensions": None}
    is_enabled = getattr(sys, "_is_gil_enabled", None)  # 3.13+
    out["gil_enabled"] = bool(is_enabled()) if is_enabled is not None else True
    config = None
    # 3.13: _interpreters; 3.14 keeps it beside concurrent.interpreters (untested: no 3.14 at hand).
    for modname in ("_interpreters",):
        try:
            module = __import__(modname)
            current = module.get_current()
            cur_id = current[0] if isinstance(current, tuple) else current
            ns = module.get_config(int(getattr(cur_id, "id", cur_id)))
            config = {}
            for key in ("use_main_obmalloc", "allow_fork", "allow_exec", "allow_threads", "allow_daemon_threads",
                        "check_multi_interp_extensions", "gil"):
                if hasattr(ns, key):
                    value = getattr(ns, key)
                    config[key] = value if isinstance(value, (bool, int)) else _text(str(value))
            out["config_source"] = modname + ".get_config()"
            break
        except Exception:
            config = None
    if config is None:
        # 3.12 has no get_config(); the one piece it exposes: daemon threads
        # are refused exactly in isolated (own-GIL) configurations.
        try:
            import _thread

            allowed = getattr(_thread, "daemon_threads_allowed", None)
            if allowed is not None:
                config = {"allow_daemon_threads": bool(allowed())}
                out["config_source"] = "_thread.daemon_threads_allowed()"
        except Exception:
            config = None
    out["config"] = config
    if out["free_threaded_build"] and not out["gil_enabled"]:
        out["gil"], out["gil_source"] = "none", "sys._is_gil_enabled()"
    elif config and config.get("gil") in ("own", "shared", "default") and main is not None:
        # The main interpreter reports 'own': it owns the process's GIL, the
        # one legacy sub-interpreters share.
        out["gil"] = "own" if config["gil"] == "own" and not main else "shared"
        out["gil_source"] = out["config_source"]
    elif main:
        out["gil"], out["gil_source"] = "shared", "main interpreter"
    elif config and "allow_daemon_threads" in config and sys.version_info >= (3, 12):
        out["gil"] = "shared" if config["allow_daemon_threads"] else "own"
        out["gil_source"] = "inferred from " + out["config_source"] + " (3.12 has no get_config)"
    elif sys.version_info < (3, 12):
        out["gil"], out["gil_source"] = "shared", "Python < 3.12 has no per-interpreter GIL"
    if config and "check_multi_interp_extensions" in config:
        out["check_multi_interp_extensions"] = bool(config["check_multi_interp_extensions"])
    elif out["gil"] is not None:
        # PEP 684: an own GIL requires the check; legacy configs do not check.
        out["check_multi_interp_extensions"] = out["gil"] == "own"
    return out


def _walk_extensions(top, budget, depth=6):
    """Extension module files under *top* (bounded by budget[0] files seen)."""
    suffixes = _ext_suffixes()
    stack = [(top, 0)]
    while stack and budget[0] > 0:
        path, level = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            budget[0] -= 1
            if budget[0] <= 0:
                return
            name = entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    if level < depth and name != "__pycache__" and not name.endswith((".dist-info", ".egg-info")):
                        stack.append((entry.path, level + 1))
                elif name.endswith(".so") and (name.endswith(suffixes) or ".cpython-" in name or ".abi3." in name):
                    yield entry.path
            except OSError:
                continue


# {path: ((mtime_ns, size), kind)}: /identity runs this scan on every request in an own-GIL
# interpreter; module state is per interpreter, so each keeps its own.
_INIT_KINDS = {}


def _cached_init_kind(path):
    try:
        st = os.stat(path)
        key = (st.st_mtime_ns, st.st_size)
    except OSError:
        return "unknown"
    hit = _INIT_KINDS.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    kind = _extension_init_kind(path)
    if len(_INIT_KINDS) < MAX_EXTENSION_FILES:
        _INIT_KINDS[path] = (key, kind)
    return kind


def _extension_init_kind(path):
    """"single-phase", "multi-phase" or "unknown", from the ELF dynamic string table.

    A PEP 489 multi-phase module returns its definition through
    ``PyModuleDef_Init``; a single-phase one builds its module with
    ``PyModule_Create2`` and never calls it.  Neither name is ever defined
    by an extension, so their presence in .dynstr means "imported".
    """
    import struct

    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return "unknown"
            end = "<" if head[5] == 1 else ">"
            if head[4] == 2:
                shoff = struct.unpack_from(end + "Q", head, 0x28)[0]
                shentsize, shnum = struct.unpack_from(end + "HH", head, 0x3A)
                fmt = end + "IIQQQQIIQQ"
            else:
                shoff = struct.unpack_from(end + "I", head, 0x20)[0]
                shentsize, shnum = struct.unpack_from(end + "HH", head, 0x2E)
                fmt = end + "IIIIIIIIII"
            if not shnum or shnum > 4096 or shentsize < struct.calcsize(fmt):
                return "unknown"
            handle.seek(shoff)
            table = handle.read(shentsize * shnum)
            sections = [struct.unpack_from(fmt, table, i * shentsize) for i in range(len(table) // shentsize)]
            for sec in sections:
                if sec[1] != 11 or sec[6] >= len(sections):  # SHT_DYNSYM -> its string table
                    continue
                strtab = sections[sec[6]]
                if strtab[5] > MAX_DYNSTR_BYTES:
                    return "unknown"
                handle.seek(strtab[4])
                names = handle.read(strtab[5])
                if b"\0PyModuleDef_Init\0" in names:
                    return "multi-phase"
                if b"\0PyModule_Create2\0" in names or b"\0PyModule_Create\0" in names:
                    return "single-phase"
                return "unknown"
    except (OSError, struct.error, ValueError):
        pass
    return "unknown"


def _gunicorn_worker_class():
    try:
        with open("/proc/self/cmdline", "rb") as handle:
            args = handle.read().split(b"\0")
        for i, arg in enumerate(args):
            if arg in (b"-k", b"--worker-class") and i + 1 < len(args):
                return _text(args[i + 1])
            if arg.startswith(b"--worker-class="):
                return _text(arg.split(b"=", 1)[1])
    except OSError:
        pass
    return "sync"


def _proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid, "rb") as handle:
            for line in handle.read().decode("utf-8", "replace").splitlines():
                key, _, value = line.partition(":")
                out[key] = value.strip()
    except OSError:
        pass
    return out


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _safe(func):
    try:
        return func()
    except Exception:
        return None


def _neutralise_nul_entries():
    """Mark sys.path entries holding a NUL byte as having no finder.

    The import system stats every entry with no cached finder, and a NUL
    makes that stat raise ValueError instead of OSError: every later import
    in the process fails, the collector's own lazy imports included, which
    cost whole sections.  None in ``sys.path_importer_cache`` is CPython's
    own "no finder for this entry": the entry is skipped, as it should be
    (no such path can exist).  sys.path itself is left as it is.
    """
    cache = getattr(sys, "path_importer_cache", None)
    if cache is None:
        return
    for raw in list(sys.path):
        if isinstance(raw, str) and "\0" in raw and raw not in cache:
            try:
                cache[raw] = None
            except Exception:
                pass


def collect(options=None):
    """Collect a report of the interpreter this code runs in (plain dict)."""
    return Collector(options).collect()


def _main_foreign(redact_key=None):
    """Entry point when the source is run inside a foreign interpreter: print the report as JSON."""
    report = _foreign_report(redact_key)
    out = getattr(sys.stdout, "buffer", None)
    data = dumps(report).encode("utf-8", "surrogatepass")
    if len(data) > MAX_REPORT_BYTES:
        data = dumps(_shrink(report, len(data))).encode("utf-8", "surrogatepass")
    if out is not None:
        out.write(data)
        out.flush()
    else:
        sys.stdout.write(data.decode("utf-8"))


def _shrink(report, size):
    """*report* with its largest sections replaced by an error until it fits MAX_REPORT_BYTES."""
    sizes = []
    for name, value in report.items():
        if name not in ("schema", "generated_at", "collector", "findings"):
            sizes.append((len(dumps(value)), name))
    sizes.sort(reverse=True)
    skipped = report["collector"].setdefault("skipped", [])
    for section_size, name in sizes:
        if size <= MAX_REPORT_BYTES:
            break
        report[name] = {"error": "skipped: this section was %d MiB, over the report's %d MiB cap"
                                 % (section_size >> 20, MAX_REPORT_BYTES >> 20)}
        skipped.append({"what": name, "detail": "section over the report size cap", "count": 1})
        size -= section_size
    return report


def _foreign_report(redact_key=None):
    """The report of this (foreign) interpreter, as `venvprobe report --python` collects it."""
    options = {"foreign": True, "use_psutil": False}
    # `python -c` put the caller's cwd first on sys.path; no server process
    # has it, and listing whatever directory the user ran venvprobe from
    # would invent shadowing that the target never sees.
    if sys.path and sys.path[0] == "" and not getattr(sys.flags, "safe_path", False):
        del sys.path[0]
        options["removed_path0"] = ""
    if redact_key:
        options["redact_key"] = redact_key
    return collect(options)


if __name__ == "__main__":
    _main_foreign(os.environ.get("VENVPROBE_REDACT_KEY"))
