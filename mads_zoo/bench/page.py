"""``leaderboard.html``: the leaderboard's markdown as one self-contained page.

The page is made from the same markdown as ``leaderboard.md`` (headings, paragraphs, lists and
tables, which is all the report writes), with the figures inlined as base64 PNGs and a few
lines of JavaScript that sort a table by the column whose header is clicked (numbers by
value, "0.9543 ± 0.0155" by its mean, blanks last). It opens from disk, with no server and
nothing fetched.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1em;
color:#222}
table{border-collapse:collapse;font-size:13px;margin:0.5em 0 1.2em}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;white-space:nowrap}
td:nth-child(2),td:nth-child(3),th:nth-child(2),th:nth-child(3){text-align:left}
th{background:#eef;cursor:pointer;position:sticky;top:0}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
tr:nth-child(even) td{background:#fafafa}
figure{display:inline-block;margin:6px;vertical-align:top}
figure img{max-width:680px;width:100%}
figcaption{font-size:12px;color:#555}
"""

SCRIPT = """
function cellValue(text){const m=text.trim().match(/^[-+]?\\d[\\d,]*(\\.\\d+)?/);
return m?parseFloat(m[0].replace(/,/g,'')):null}
document.querySelectorAll('table').forEach(function(table){
 table.querySelectorAll('th').forEach(function(th,col){th.addEventListener('click',function(){
  const body=table.tBodies[0];const rows=Array.from(body.rows);
  const asc=!th.classList.contains('sorted-asc');
  table.querySelectorAll('th').forEach(h=>h.classList.remove('sorted-asc','sorted-desc'));
  th.classList.add(asc?'sorted-asc':'sorted-desc');
  rows.sort(function(a,b){const x=a.cells[col].textContent,y=b.cells[col].textContent;
   const vx=cellValue(x),vy=cellValue(y);
   if(vx===null&&vy===null)return asc?x.localeCompare(y):y.localeCompare(x);
   if(vx===null)return 1;if(vy===null)return -1;return asc?vx-vy:vy-vx});
  rows.forEach(r=>body.appendChild(r))})})});
"""


def _table(lines: list[str]) -> str:
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    head, body = cells[0], [row for row in cells[2:]]
    header = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"


def markdown_html(markdown: str) -> str:
    """HTML for the report's markdown: ``#`` headings, ``-`` lists, ``|`` tables, paragraphs."""
    out: list[str] = []
    for block in markdown.strip().split("\n\n"):
        lines = block.strip().splitlines()
        if not lines:
            continue
        first = lines[0]
        if first.startswith("#"):
            level = len(first) - len(first.lstrip("#"))
            out.append(f"<h{level}>{html.escape(first[level:].strip())}</h{level}>")
            rest = "\n".join(lines[1:]).strip()
            if rest:
                out.append(markdown_html(rest))
        elif first.startswith("|"):
            out.append(_table(lines))
        elif first.startswith("- "):
            items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines)
            out.append(f"<ul>{items}</ul>")
        else:
            out.append(f"<p>{html.escape(' '.join(lines))}</p>")
    return "\n".join(out)


def inline_figure(path: Path) -> str:
    """A ``<figure>`` holding the PNG at ``path`` as a data URI, captioned with its name."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    name = html.escape(Path(path).stem)
    return (
        f"<figure><img alt='{name}' src='data:image/png;base64,{data}'>"
        f"<figcaption>{name}</figcaption></figure>"
    )


def leaderboard_page(title: str, markdown: str, figures: list[Path]) -> str:
    """The whole page: the markdown's content, then the figures, inlined."""
    return (
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style><body>"
        + markdown_html(markdown)
        + ("<h2>Figures</h2>" + "".join(inline_figure(p) for p in figures) if figures else "")
        + f"<script>{SCRIPT}</script></body></html>"
    )
