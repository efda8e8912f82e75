"""The HTML page of a report or check result: self-contained, script-free, readable at 400 px and on paper.

Layout: a header with the facts that identify the target, a status banner
(red/amber/green with the counts), a table of contents, the findings as
cards (code in ``<code>``, the fix set apart), then one table per section.
Only cells holding paths and other long values may wrap inside a word
(``overflow-wrap: anywhere``); codes, severities and names never do.  Below
640 px every table row becomes a card whose cells carry their column name.
Checked in headless Chromium by tests/test_html_browser.py.
"""

from __future__ import annotations

from venvprobe.render.safe import escape_controls
from venvprobe.vocab import SEVERITIES

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing imports re & co.: the probe's request path renders without it
    from typing import Any, Dict, List, Optional, Sequence, Tuple

    from venvprobe.render.table import Table

# The probe sends the same policy as a header; the meta copy protects a page
# saved to disk and opened from a ticket.
CSP = "default-src 'none'; style-src 'unsafe-inline'"

CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;padding:1rem 1.5rem 3rem;
max-width:110rem;color:#1b1b1b;background:#fff;line-height:1.45}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
h1{font-size:1.45rem;margin:.2rem 0 .6rem}
h2{font-size:1.15rem;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:1px solid #ccc}
h3{font-size:1rem;margin:.35rem 0}
a{color:#0b57d0}
.facts{display:flex;flex-wrap:wrap;gap:.3rem 1.6rem;margin:0 0 1rem;padding:0}
.facts div{min-width:0}.facts dt{font-size:.78rem;color:#555;text-transform:uppercase;letter-spacing:.03em}
.facts dd{margin:0;font-weight:600}
.banner{border-radius:.4rem;padding:.8rem 1rem;margin:0 0 1rem;font-size:1.1rem;border:2px solid}
.banner strong{margin-right:.6rem}
.status-error{background:#fde2e1;border-color:#c5221f;color:#7a0b0b}
.status-warning{background:#fff1c2;border-color:#b06000;color:#5c3300}
.status-ok{background:#dff3e4;border-color:#188038;color:#0d4a1f}
.toc{background:#f6f7f9;border:1px solid #e0e0e0;border-radius:.4rem;padding:.5rem 1rem;margin:0 0 1rem}
.toc h2{border:0;margin:0 0 .2rem;font-size:.95rem}
.toc ol{margin:0;padding-left:1.4rem;columns:16rem}
.note{color:#444;margin:.2rem 0 .6rem}
.card{border:1px solid #ddd;border-left:.45rem solid #999;border-radius:.35rem;padding:.6rem .9rem;margin:0 0 .8rem;
break-inside:avoid}
.card.error{border-left-color:#c5221f}.card.warning{border-left-color:#e8a100}.card.info{border-left-color:#1a73e8}
.card>header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.2rem .6rem}
.sev{display:inline-block;white-space:nowrap;font-weight:700;font-size:.8rem;text-transform:uppercase;
padding:.05rem .45rem;border-radius:.25rem}
.sev.error{background:#c5221f;color:#fff}.sev.warning{background:#f6c026;color:#3b2600}.sev.info{background:#d2e3fc;color:#0b2a5c}
code.code{white-space:nowrap;font-weight:600}
.card p{margin:.3rem 0}
.msg,.evidence li{overflow-wrap:break-word}
.evidence{margin:.3rem 0;padding-left:1.2rem;font-size:.92em}
.fix{background:#f1f6ff;border-left:3px solid #1a73e8;padding:.4rem .7rem;margin:.5rem 0 .1rem}
.fix h4{margin:0;font-size:.8rem;text-transform:uppercase;color:#1a4fa0}
table{border-collapse:collapse;font-size:.9rem;width:100%;margin:0 0 .5rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top;overflow-wrap:normal;word-break:normal}
th{background:#f3f3f3}
td.path{overflow-wrap:anywhere}
td.id{white-space:nowrap}
table.kv td:first-child{width:1%;white-space:nowrap;color:#333}
@media (max-width:640px){
body{padding:.6rem .7rem 2rem}
table,tbody,tr,td{display:block;width:100%}
thead{display:none}
table{border:0}
tr{border:1px solid #ddd;border-radius:.3rem;margin:0 0 .4rem;padding:.15rem 0}
td{border:0;padding:.05rem .5rem}
td[data-label]{display:grid;grid-template-columns:minmax(5.5rem,32%) minmax(0,1fr);column-gap:.6rem}
td[data-label]::before{content:attr(data-label);font-size:.8rem;font-weight:600;color:#555;padding-top:.1rem;white-space:normal}
table.kv td:first-child{width:100%;font-weight:600;font-size:.8rem;color:#555}
table.kv td{display:block}
table.kv td::before{content:none}
}
@media print{
body{max-width:none;padding:0;font-size:10pt}
.toc{display:none}
.banner,.sev,.card{-webkit-print-color-adjust:exact;print-color-adjust:exact}
a{color:inherit;text-decoration:none}
tr,.card{break-inside:avoid}
h2{break-after:avoid}
}
"""



def _pathlike(text: str) -> bool:
    """A path or other long value (may wrap anywhere): it holds a separator or is one long token.

    Anything else is a word, a name or a code and only wraps at spaces.
    """
    return any(c in text for c in "/\\:,;=") or (len(text) >= 32 and " " not in text)


def esc(value: Any) -> str:
    """HTML-escaped (as html.escape, which imports re), controls and bidi marks made visible (textsafe)."""
    text = escape_controls("" if value is None else value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#x27;"))


def status_of(counts: Dict[str, int]) -> Tuple[str, str]:
    """(css class, headline) of the status banner."""
    if counts.get("error"):
        return "status-error", "Problems found"
    if counts.get("warning"):
        return "status-warning", "Warnings"
    return "status-ok", "No problems found"


def banner(counts: Dict[str, int], counts_text: str) -> str:
    css, headline = status_of(counts)
    return (f'<section class="banner {css}" role="status" id="status"><strong>{esc(headline)}</strong>'
            f'<span>{esc(counts_text)}</span></section>')


def facts(pairs: Sequence[Tuple[str, Any]]) -> str:
    items = "".join(f'<div><dt>{esc(k)}</dt><dd class="mono">{esc(v)}</dd></div>' for k, v in pairs if v not in (None, ""))
    return f'<dl class="facts">{items}</dl>' if items else ""


def toc(entries: Sequence[Tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="#{esc(anchor)}">{esc(title)}</a></li>' for anchor, title in entries)
    return f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'


def finding_card(f: dict, anchor: str) -> str:
    sev = str(f.get("severity") or "info")
    sev_css = sev if sev in SEVERITIES else "info"
    parts = [f'<article class="card {sev_css}" id="{esc(anchor)}"><header>',
             f'<span class="sev {sev_css}">{esc(sev)}</span><code class="code">{esc(f.get("code"))}</code></header>']
    if f.get("title"):
        parts.append(f"<h3>{esc(f.get('title'))}</h3>")
    if f.get("message"):
        parts.append(f'<p class="msg">{esc(f.get("message"))}</p>')
    evidence = [e for e in f.get("evidence") or [] if e not in (None, "")]
    if evidence:
        parts.append('<ul class="evidence">' + "".join(f"<li><code>{esc(e)}</code></li>" for e in evidence[:50]) + "</ul>")
        if len(evidence) > 50:
            parts.append(f'<p class="note">… {len(evidence) - 50} more</p>')
    if f.get("fix"):
        parts.append(f'<div class="fix"><h4>Fix</h4><p>{esc(f.get("fix"))}</p></div>')
    parts.append("</article>")
    return "".join(parts)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of already-formatted cell texts; every cell carries its column name for narrow screens."""
    kv = tuple(headers) == ("field", "value")
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    body = []
    for row in rows:
        cells = []
        for h, c in zip(headers, row):
            css = "path" if _pathlike(c) else "id" if c and " " not in c and len(c) <= 40 else ""
            label = f' data-label="{esc(h)}"' if h else ""
            cells.append(f'<td{label}{f" class={chr(34)}{css}{chr(34)}" if css else ""}>{esc(c)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{' class=' + chr(34) + 'kv' + chr(34) if kv else ''}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def page(title: str, head_html: str, body_html: str) -> str:
    return "\n".join([
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        head_html,
        "<main>",
        body_html,
        "</main></body></html>",
    ])


def document(title: str, fact_pairs: Sequence[tuple], counts: Optional[Dict[str, int]],
             findings: Optional[Sequence[dict]], tables: Sequence[Table]) -> str:
    """The one HTML page layout: facts, status banner, contents, finding cards, tables.

    *findings* None leaves the findings section out (a diff has none); *counts*
    None leaves out the status banner.
    """
    from venvprobe.render.table import format_value
    from venvprobe.render.text import counts_line

    e = esc
    anchor = Anchors()
    contents: List[tuple] = []
    body: List[str] = []
    if findings is not None:
        contents.append(("findings", f"Findings ({len(findings)})"))
        anchor("findings")
        body.append('<section id="findings"><h2>Findings</h2>')
        if not findings:
            body.append('<p class="note">No findings.</p>')
        for i, f in enumerate(findings, 1):
            body.append(finding_card(f, f"finding-{i}"))
        body.append("</section>")
    for t in tables:
        a = anchor(t.title)
        contents.append((a, t.title))
        body.append(f'<section id="{e(a)}"><h2>{e(t.title)}</h2>')
        if t.note:
            body.append(f'<p class="note">{e(t.note)}</p>')
        if t.rows:
            body.append(table([str(h) for h in t.headers], [[format_value(c) for c in row] for row in t.rows]))
        body.append("</section>")
    head = [f"<header><h1>{e(title)}</h1>", facts(fact_pairs), "</header>"]
    if counts is not None:
        head.append(banner(counts, counts_line(counts)))
    if len(contents) > 1:
        head.append(toc(contents))
    return page(title, "\n".join(head), "\n".join(body))


def anchors() -> "Anchors":
    return Anchors()


class Anchors:
    """Unique, readable fragment ids ("interpreter", "shadowed-2")."""

    def __init__(self) -> None:
        self.used = {}  # type: Dict[str, int]

    def __call__(self, title: str) -> str:
        slug = "".join(c if c.isascii() and c.isalnum() else " " for c in title.lower())
        base = "-".join(slug.split()) or "section"
        n = self.used.get(base, 0) + 1
        self.used[base] = n
        return base if n == 1 else f"{base}-{n}"


__all__ = ["CSP", "CSS", "Anchors", "banner", "document", "esc", "facts", "finding_card", "page", "status_of", "table",
           "toc"]
