"""Plain data out of a live ``ComputeMarketModel`` for the chart functions in ``charts.py``.

This is the only module of ``sim.viz`` that knows the model's attribute names
(docs/interfaces.md, "The Mesa model"); the charts only see dicts and lists.
"""

from __future__ import annotations

from typing import Any

from sim.viz.charts import month_axis

FIRM_GROUPS = ("labs", "clouds", "chipmaker")
NODE_GROUPS = ("labs", "clouds", "chipmaker", "financier")
_GROUP_KIND = {"labs": "lab", "clouds": "cloud", "chipmaker": "chipmaker", "financier": "financier"}


def months_recorded(model: Any) -> int:
    """How many monthly values each market series holds."""
    series = getattr(model, "series", None) or {}
    return max((len(v) for v in series.values()), default=0)


def start_month(model: Any) -> str:
    """First simulated month "YYYY-MM" of the model's scenario."""
    cfg = getattr(model, "config", None) or getattr(model, "cfg", None)
    if cfg is not None:
        return str(cfg.meta.start)
    # fall back on the current date and the number of months simulated
    year, month = (int(p) for p in str(model.date).split("-")[:2])
    k = year * 12 + month - 1 - int(getattr(model, "tick", 0))
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def series_dates(model: Any) -> list[str]:
    """The month "YYYY-MM" of each recorded value: the first simulated month onwards."""
    return month_axis(start_month(model), months_recorded(model))


def _agents(model: Any, group: str) -> list[Any]:
    value = getattr(model, group, None)
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, (list, tuple)):
        return list(value)
    to_list = getattr(value, "to_list", None)  # a Mesa AgentSet
    return list(to_list()) if callable(to_list) else [value]


def _agent_id(agent: Any) -> str:
    for attr in ("uid", "id", "unique_id"):
        value = getattr(agent, attr, None)
        if value is not None:
            return str(value)
    raise AttributeError(f"{agent!r} has no uid")


def _is_alive(agent: Any) -> bool:
    return bool(getattr(agent, "alive", True))


def _detail(agent: Any, group: str) -> str:
    """What kind of firm: the cloud's type (hyperscaler, neocloud, ...) or the agent's kind."""
    params = getattr(agent, "p", None)
    return str(getattr(params, "kind", None) or getattr(agent, "kind", _GROUP_KIND[group]))


def horizon(model: Any) -> int | None:
    """Months the world runs for."""
    value = getattr(model, "horizon", None)
    if value is None:
        cfg = getattr(model, "config", None) or getattr(model, "cfg", None)
        value = cfg.meta.months if cfg is not None else None
    return None if value is None else int(value)


def firms(model: Any) -> list[dict[str, Any]]:
    """Labs, clouds and the chipmaker still in business: id, kind, cash and debt ($B)."""
    out = []
    for group in FIRM_GROUPS:
        for a in _agents(model, group):
            if not _is_alive(a):
                continue
            out.append({"id": _agent_id(a), "kind": _detail(a, group),
                        "cash_busd": float(getattr(a, "cash_busd", 0.0) or 0.0),
                        "debt_busd": float(getattr(a, "debt_busd", 0.0) or 0.0)})
    return out


def nodes(model: Any) -> list[dict[str, Any]]:
    """Every firm and capital provider that can hold a tie: id and node group."""
    out = []
    for group in NODE_GROUPS:
        for a in _agents(model, group):
            if group in ("labs", "clouds") and not _is_alive(a):
                continue
            out.append({"id": _agent_id(a), "kind": _GROUP_KIND[group], "detail": _detail(a, group)})
    return out


def settings_in_effect(model: Any) -> dict[str, Any]:
    """The controlled parameters of the running world, in display units, read back from its config."""
    from sim.viz.controls import CONTROLS

    cfg = getattr(model, "config", None) or getattr(model, "cfg", None)
    if cfg is None:
        return {}
    return {c.name: c.to_display(cfg.get_path(c.path)) for c in CONTROLS}
