"""The skeleton of hse's HTML pages: escaping, the inline style and sort script, tables and figures.

Every page is one file that loads nothing (a Content-Security-Policy forbids any fetch but ``data:``
images), reads in full without JavaScript (the script only adds sort buttons to table headers), and
keeps text contrast at WCAG AA or better (dark text on white; links #0b57d0, 6.6:1).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: No fetch of any kind; inline style and script, data: images only.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

CSS = """
:root{color-scheme:light}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a;
background:#fff;margin:0 auto;max-width:1200px;padding:1rem 1.5rem 3rem}
h1{font-size:1.6rem;margin:.4rem 0 .6rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;
border-bottom:1px solid #c8c8c8}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
a{color:#0b57d0}a:focus,button:focus{outline:3px solid #1a1a1a;outline-offset:2px}
.meta{color:#3d3d3d}.note{color:#3d3d3d;font-size:.92rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #c8c8c8;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#eef1f6;white-space:nowrap}td.text,th.text{text-align:left}tbody tr:nth-child(even){background:#f7f7f7}
th button{font:inherit;font-weight:600;color:#1a1a1a;background:none;border:0;padding:0;cursor:pointer}
th[aria-sort=ascending] button::after{content:" \\2191"}th[aria-sort=descending] button::after{content:" \\2193"}
.scroll{overflow-x:auto}
.scores{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0;padding:0;list-style:none}
.scores li{border:1px solid #c8c8c8;border-radius:6px;padding:.4rem .8rem;min-width:8.5rem}
.scores .label{display:block;font-size:.85rem;color:#3d3d3d}
.scores .value{display:block;font-size:1.35rem;font-weight:650}
.scores .ci{display:block;font-size:.8rem;color:#3d3d3d}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.9rem;color:#3d3d3d}
.gallery{display:flex;flex-wrap:wrap;gap:1rem}.gallery figure{margin:0;width:260px}
.gallery img{image-rendering:pixelated;border:1px solid #888;max-width:100%;height:auto}
.key{display:inline-block;width:1.6em;height:.9em;vertical-align:middle;border:2px solid;margin-right:.3em}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}dl.kv dt{font-weight:600}
dl.kv dd{margin:0;overflow-wrap:anywhere}code{font-size:.92em}
"""

SORT_JS = """
(function(){
function key(c,num){var v=c.getAttribute('data-sort');if(v===null)v=c.textContent.trim();
 if(!num)return v;var x=parseFloat(v);return isNaN(x)?null:x;}
function sortBy(t,i,th){var num=th.getAttribute('data-type')==='num';
 var asc=th.getAttribute('aria-sort')!=='ascending';
 Array.prototype.forEach.call(t.tHead.rows[0].cells,function(c){c.removeAttribute('aria-sort');});
 th.setAttribute('aria-sort',asc?'ascending':'descending');
 var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
 rows.sort(function(a,b){var x=key(a.cells[i],num),y=key(b.cells[i],num);
  if(x===null||y===null)return (x===null)-(y===null);
  var r=num?x-y:x.localeCompare(y,undefined,{numeric:true});return asc?r:-r;});
 rows.forEach(function(r){body.appendChild(r);});}
document.querySelectorAll('table.sortable').forEach(function(t){
 Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){
  var b=document.createElement('button');b.type='button';b.textContent=th.textContent;
  b.setAttribute('title','sort by this column');th.textContent='';th.appendChild(b);
  b.addEventListener('click',function(){sortBy(t,i,th);});});});
})();
"""


def esc(value: Any) -> str:
    """Text for HTML content or a quoted attribute (``& < > " '`` escaped)."""
    return html.escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class Cell:
    """A table cell: shown ``text`` (escaped unless ``raw``) and, for numbers, the ``sort`` key."""

    text: str
    sort: float | str | None = None
    raw: bool = False


@dataclass(frozen=True)
class Column:
    """A table column: its ``label`` and whether it holds numbers (right-aligned, sorted numerically)."""

    label: str
    numeric: bool = True


def num_cell(value: Any, text: str) -> Cell:
    """A number shown as ``text`` and sorted by its value (missing or NaN values sort last)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    return Cell(text, "" if not math.isfinite(x) else repr(x))


def table(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Cell | str]],
    caption: str | None = None,
    sortable: bool = False,
    table_id: str | None = None,
) -> str:
    """An HTML table; with ``sortable`` the script adds a sort button to each header (the table reads
    the same without it)."""
    attrs = [f'class="{"sortable" if sortable else "plain"}"']
    if table_id:
        attrs.append(f'id="{esc(table_id)}"')
    out = [f'<div class="scroll"><table {" ".join(attrs)}>']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    heads = "".join(
        f'<th scope="col" class="{"num" if c.numeric else "text"}" data-type="{"num" if c.numeric else "text"}">'
        f"{esc(c.label)}</th>"
        for c in columns
    )
    out.append(f"<thead><tr>{heads}</tr></thead><tbody>")
    for row in rows:
        cells = []
        for col, cell in zip(columns, row, strict=True):
            c = cell if isinstance(cell, Cell) else Cell(str(cell))
            sort = "" if c.sort is None else f' data-sort="{esc(c.sort)}"'
            cls = "num" if col.numeric else "text"
            cells.append(f'<td class="{cls}"{sort}>{c.text if c.raw else esc(c.text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "\n".join(out)


def figure(content: str, caption: str) -> str:
    """A figure (inline SVG or an ``<img>``, already carrying its alt text) with a visible caption."""
    return f"<figure>{content}<figcaption>{esc(caption)}</figcaption></figure>"


def key_value(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list of (name, value) pairs, both escaped."""
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs)
    return f'<dl class="kv">{body}</dl>'


def page(title: str, body: str, sortable: bool = True) -> str:
    """A complete HTML document: ``title`` (escaped) and ``body`` (HTML). The script is included only
    when some table is sortable."""
    script = f"<script>{SORT_JS}</script>" if sortable else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
        f"<body>\n<main>\n{body}\n</main>\n{script}\n</body></html>\n"
    )
