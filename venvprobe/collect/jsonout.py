"""JSON output without importing ``json`` (which pulls in ``re``: several ms of start-up).

Used by the shipped collector and by the probe's request path.
"""

from venvprobe.collect.common import _text


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
