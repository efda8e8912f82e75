"""Masking secrets with a short keyed hash: :class:`Masker`, the only masking code in venvprobe.

The collector masks while collecting; the probe and the CLI (``scrub``) mask
everything they print with the same class.  Standard library only, no ``re``.

About 400 lines on purpose: one class, whose methods call each other (``text``
uses ``_pem``, ``url`` and ``_auth``; ``argv`` and ``cmdline`` use ``assignment``);
split, a reader of one rule would need the others open.  ``text`` and ``scrub``
run for every string of every report (a fifth of the collector's cost per
distribution, issue 14), hence their fast paths; tests/test_masking_fast.py keeps
the plain algorithm they must agree with.
"""

import os

from venvprobe.collect.common import _text
from venvprobe.collect.secret_words import (
    _MARK_PREFIX,
    _OPTION_SECRET_WORDS,
    _PLAIN_URL_USERS,
    _UWSGI_PAIR_OPTIONS,
    _WEBHOOK_HOSTS,
    _SECRET_NAME_MEMO,
    _WORD_SPLIT,
    _looks_secret_name,
    _quoted,
    _secret_word,
    _shell_words,
    _split_keep_space,
)


# _WORD_SPLIT for ASCII bytes: every byte that cannot be part of a token becomes a space.
_WORD_SPLIT_BYTES = bytes(32 if b in _WORD_SPLIT else b for b in range(256))


class Masker(object):
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
        # "bearer ", "basic " and "token " hold a space and "authorization" a z: an
        # ASCII string with neither (most paths and names) cannot match, and is
        # not lowered and searched four times.  (Lowering an ASCII string only
        # changes A-Z; other strings take the full test.)
        if not out.isascii() or " " in out or "z" in out or "Z" in out:
            low = out.lower()
            if "authorization" in low or "bearer " in low or "basic " in low or "token " in low:
                out = self._auth(out)
        # The candidate words: runs of word characters, 16 or more long.  An
        # ASCII string (paths, names: nearly all) is split as bytes: str.translate
        # looks each character up in a dict, the most expensive step here.  After
        # either table the only whitespace left is " ", so both splits agree.
        if out.isascii():
            words = [w.decode("ascii") for w in out.encode("ascii").translate(_WORD_SPLIT_BYTES).split()
                     if len(w) >= 16]
        else:
            words = [w for w in out.translate(_WORD_SPLIT).split() if len(w) >= 16]
        for word in words:
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
            # Every key and value of the report passes here (a dozen per
            # distribution): the common cases -- a plain str key, a str, number,
            # bool or None value -- skip the calls that give their answer.
            out = {}
            memo = self._memo
            for k, v in value.items():
                cls = v.__class__
                if cls is str and k.__class__ is str:
                    secret = _SECRET_NAME_MEMO.get(k)
                    if secret is None:
                        secret = _looks_secret_name(k)
                    if secret and k != "PYTHONPATH" and v and not v.startswith(_MARK_PREFIX):
                        out[k] = self.mark(v)
                    elif len(v) < 12:
                        out[k] = v  # what text() gives
                    else:
                        done = memo.get(v)
                        out[k] = done if done is not None else self.text(v)
                elif cls is int or cls is bool or v is None or cls is float:
                    out[k] = v  # what scrub() gives
                elif isinstance(v, str) and isinstance(k, str) and _looks_secret_name(k) and k != "PYTHONPATH" \
                        and v and not v.startswith(_MARK_PREFIX):
                    out[k] = self.mark(v)
                else:
                    out[k] = self.scrub(v)
            return out
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value

