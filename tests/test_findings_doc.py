"""docs/findings.md lists every code in the catalog, so users can look any finding up."""

from pathlib import Path

from venvprobe.catalog import CATALOG, SEVERITIES


def test_every_code_is_documented_with_its_severity():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "findings.md").read_text()
    for code, diagnosis in CATALOG.items():
        assert f"| `{code}` | {diagnosis.severity} |" in doc, code
        assert diagnosis.severity in SEVERITIES
        assert diagnosis.title and diagnosis.fix, code
