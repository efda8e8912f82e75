"""The JSON documents: a report (or some sections of it), an offline result, a diff, compare's results.

Each is the document's data as it is, with the keys its readers rely on
(the JSON Schemas in :mod:`venvprobe.schemas` describe them).  ``json`` is
imported where it is used: the report goes out through the collector's
encoder without it (``import json`` imports ``re``, and the probe's request
path renders reports).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence


def report(report: dict, sections: Optional[Sequence[str]] = None) -> str:
    """The report itself, or the chosen sections of it (marked as partial)."""
    from venvprobe.collect.jsonout import dumps

    if sections:
        keys = {"path": "sys_path"}
        data = {"schema": report.get("schema"), "generated_at": report.get("generated_at")}
        ident = report.get("identity")
        if isinstance(ident, dict):
            data["identity"] = ident
        for s in sections:
            key = keys.get(s, s)
            if key in report:
                data[key] = report[key]
        # Part of a report says so: `report --input`, compare, diff and
        # snapshot refuse it instead of analysing sections that are not there.
        data["sections"] = [k for k in data if k not in ("schema", "generated_at")]
        return dumps(data)
    # Compact, by CPython's C encoder without ``import json`` (which imports
    # ``re``); pipe through jq for people.
    return dumps(report)


def offline(result: dict) -> str:
    """An offline check's result (``check-home``, ``check-apache``, ...), without its display tables."""
    import json

    return json.dumps({k: v for k, v in result.items() if k != "tables"}, indent=2, ensure_ascii=True, default=str)


def document(data: Any) -> str:
    """A document (compare's results, a diff) as indented UTF-8 JSON, ending in a newline."""
    import json

    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


__all__ = ["document", "offline", "report"]
