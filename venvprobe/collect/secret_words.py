"""Which names and values look like secrets, and the word splitting the masker needs.

Shared by :mod:`venvprobe.collect.masking` and the sections that mask by name
(environment, uWSGI options, pyvenv.cfg).  No ``re``: its import costs more
than the collector's start-up budget allows.
"""

_SECRET_WORDS = (
    "PASSWORD", "PASSWD", "PASS", "SECRET", "TOKEN", "KEY", "CREDENTIAL",
    "AUTH", "COOKIE", "SESSION", "PRIVATE", "SIGNATURE", "DSN", "APIKEY",
)

_SECRET_NAME_MEMO = {}  # type: dict[str, bool]


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
# Their first characters: a word starting with none of these has no token prefix (one set lookup
# instead of ~40 startswith tests, for every long word of every path and name).
_TOKEN_FIRST_CHARS = frozenset(prefix[0] for prefix in _TOKEN_PREFIX_TUPLE)
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
    if word[0] in _TOKEN_FIRST_CHARS and word.startswith(_TOKEN_PREFIX_TUPLE):
        for prefix, minimum in _TOKEN_PREFIXES:
            if n >= minimum and word.startswith(prefix):
                return True
    if n == 20 and word[:4] in _AWS_KEY_PREFIXES and word.isalnum() and word.upper() == word:
        return True
    if word.startswith("eyJ") and word.count(".") == 2 and n >= 30:
        return True  # JWT: base64url('{"...') . payload . signature
    # _random_run needs capitals and digits: most words (paths) have neither.
    return n >= 20 and word.lower() != word and _looks_random(word)

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
