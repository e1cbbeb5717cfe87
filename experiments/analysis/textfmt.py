"""Number formatting and plain-text tables for terminal output and HTML cells."""

from __future__ import annotations

import math
from collections.abc import Sequence


SHORT_UNITS = {
    "bool": "",   # labels: shown as shares of runs
    "$B per EGW-month": "$B/EGW-mo",
    "$ per GPU-hour": "$/GPU-h",
    "share (0-1)": "share",
    "HHI (0-1)": "HHI",
    "HHI (change)": "HHI chg",
    "index (0-1)": "index",
}
"""Abbreviations of the outcome units (sim.metrics.OUTCOME_DOCS) for narrow table columns; the others are short."""


def short_unit(unit: str) -> str:
    """A unit abbreviated for a table column: "$B per EGW-month" -> "$B/EGW-mo"; a unit not in SHORT_UNITS as is."""
    return SHORT_UNITS.get(unit, unit)


def num(x: float, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, thousands separated, 'n/a' for NaN."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    x = float(x)
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    return f"{x:,.{decimals}f}"


def signed(x: float, digits: int = 3) -> str:
    """Like :func:`num` with an explicit sign for non-zero values."""
    text = num(x, digits)
    return f"+{text}" if text not in ("n/a", "0") and not text.startswith("-") else text


def pct(x: float, decimals: int = 1, sign: bool = False) -> str:
    """A share as a percentage (0.312 -> '31.2%')."""
    if x is None or math.isnan(x):
        return "n/a"
    return f"{x * 100:+.{decimals}f}%" if sign else f"{x * 100:.{decimals}f}%"


def interval(low: float, high: float, fmt=num) -> str:
    """``[low, high]`` with the same formatter for both ends."""
    if low is None or math.isnan(low) or math.isnan(high):
        return "n/a"
    return f"[{fmt(low)}, {fmt(high)}]"


def p_value(p: float) -> str:
    """A p-value for a table: '<0.001' below a thousandth."""
    if p is None or math.isnan(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A fixed-width table. ``align`` has one 'l' or 'r' per column (default: first left, rest right)."""
    ncol = len(headers)
    align = align or "l" + "r" * (ncol - 1)
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(ncol)]

    def line(row):
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])
