"""Self-contained HTML pages with Plotly figures, readable offline.

plotly.js is embedded once in the page head (what ``include_plotlyjs=True``
puts in a page); each figure is a ``<div>`` that uses it.
"""

from __future__ import annotations

import html
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 2rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem} th,td{padding:.25rem .6rem;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f6f6f6} td:first-child,th:first-child{text-align:left}
.notice{background:#fff3cd;border:1px solid #e0c060;padding:.6rem 1rem;margin:1rem 0}
th.l,td.l{text-align:left} table.kv th{text-align:left} td.kv{text-align:left;white-space:normal}
.yes{color:#0a6b2e;font-weight:600} .no{color:#666}
.scroll{overflow-x:auto} .muted{color:#666;font-size:.9rem} summary{cursor:pointer;font-weight:600;margin:.6rem 0} ul.verdicts li{margin:.25rem 0}
"""


def esc(text: object) -> str:
    """HTML-escape any value."""
    return html.escape(str(text), quote=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], raw_columns: Sequence[int] = (),
          left_columns: Sequence[int] = ()) -> str:
    """An HTML table; cells are escaped except in ``raw_columns`` (pre-built HTML). Cells are right-aligned but
    for the first column and ``left_columns`` (text such as units)."""
    def cell(tag: str, i: int, text: str) -> str:
        return f"<{tag} class='l'>{text}</{tag}>" if i in left_columns else f"<{tag}>{text}</{tag}>"

    head = "".join(cell("th", i, esc(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c if i in raw_columns else esc(c)) for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def key_values(rows: Sequence[Sequence[object]]) -> str:
    """A two-column description table (name, value), left-aligned and wrapping."""
    body = "".join(f"<tr><th>{esc(k)}</th><td class='kv'>{esc(v)}</td></tr>" for k, v in rows)
    return f"<table class='kv'><tbody>{body}</tbody></table>"


def figure(fig) -> str:
    """A Plotly figure as a ``<div>`` (plotly.js comes from the page head)."""
    return fig.to_html(full_html=False, include_plotlyjs=False,
                       config={"displaylogo": False, "responsive": True})


def page(title: str, body: Sequence[str], notice: str | None = None) -> str:
    """A complete HTML document with plotly.js embedded in its head."""
    from plotly.offline import get_plotlyjs

    note = f'<div class="notice">{esc(notice)}</div>' if notice else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{_CSS}</style>"
        f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
        f"<h1>{esc(title)}</h1>{note}{''.join(body)}</body></html>\n"
    )


def write_atomic(path: Path | str, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file and a rename (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 1e6)
    return path
