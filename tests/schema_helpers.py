"""Validate venvprobe's JSON documents against the JSON Schemas the package ships.

Any test that produces a report, an identity document, compare results or a
diff can check it: ``assert_valid(doc, "report")`` (or the ``valid_json``
fixture in conftest.py).  The schemas are read from the installed package's
files (``venvprobe/schemas/*.schema.json``), exactly what a user gets.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, List

from venvprobe import schemas


@lru_cache(maxsize=None)
def validator(name: str) -> Any:
    import jsonschema

    schema = schemas.load(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def errors(doc: Any, name: str) -> List[str]:
    """Readable errors, descending into anyOf branches (a section or its error marker)."""
    out = []
    for error in validator(name).iter_errors(doc):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        detail = ""
        if error.context:
            best = min(error.context, key=lambda e: (e.validator == "required" and e.validator_value == ["error"],
                                                     len(e.message)))
            detail = f" [{'/'.join(str(p) for p in best.absolute_path)}: {best.message[:200]}]"
        out.append(f"{where}: {error.message[:200]}{detail}")
    return out


def assert_valid(doc: Any, name: str) -> None:
    """Fail with every schema error of *doc* against the shipped schema *name*."""
    found = errors(doc, name)
    assert not found, f"not a valid {name} document:\n" + "\n".join(found[:20])
