"""The page's parameter controls: one table mapping a slider or switch to a scenario path.

A control shows a value in display units (for example %/yr) and converts it to
the scenario's unit (a fraction per year) with ``factor``. Sliders start at the
chosen scenario's own values, and only the controls that differ from them
become overrides, so an untouched page rebuilds exactly the scenario file's world.

The page's *settings* are a plain dict: ``{"scenario": name, <control name>: display value, ...}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class _HasPaths(Protocol):
    def get_path(self, path: str) -> Any: ...


@dataclass(frozen=True)
class Control:
    """A page control bound to one dotted scenario path."""

    name: str          # key in the page settings
    path: str          # dotted path in the scenario (sim.config)
    label: str         # shown on the page, with the unit
    kind: str          # "float" (slider) or "bool" (switch)
    lo: float = 0.0    # slider range in display units (widened to include the scenario's value)
    hi: float = 1.0
    step: float = 0.1
    factor: float = 1.0  # scenario value = display value * factor

    def to_display(self, scenario_value: Any) -> Any:
        """Scenario value -> value shown by the control."""
        if self.kind == "bool":
            return bool(scenario_value)
        return round(float(scenario_value) / self.factor, 6)

    def to_scenario(self, display_value: Any) -> Any:
        """Value shown by the control -> scenario value."""
        if self.kind == "bool":
            return bool(display_value)
        return round(float(display_value) * self.factor, 10)


CONTROLS: tuple[Control, ...] = (
    Control("lab_aggressiveness", "scale.lab_aggressiveness", "Lab aggressiveness (× each lab's forward bet)",
            "float", 0.0, 3.0, 0.1),
    Control("permit_delay", "scale.permit_delay", "Permit delay (× review and interconnection time)",
            "float", 0.0, 4.0, 0.1),
    Control("demand_growth", "market.demand_growth_per_year", "AI demand growth (%/yr)",
            "float", 0.0, 400.0, 5.0, 0.01),
    Control("chip_supply_growth", "chipmaker.supply_growth_per_year", "Chip supply growth (%/yr)",
            "float", 0.0, 300.0, 5.0, 0.01),
    Control("cost_of_capital", "financier.base_rate", "Cost of capital: base rate (%/yr)",
            "float", 0.0, 15.0, 0.1, 0.01),
    Control("progress_stall", "shocks.progress_stall.enabled", "Progress stall (capability plateaus)", "bool"),
    Control("vendor_financing", "chipmaker.vendor_financing", "Vendor financing (chipmaker equity and guarantees)",
            "bool"),
)

CONTROLS_BY_NAME = {c.name: c for c in CONTROLS}


def control_defaults(cfg: _HasPaths) -> dict[str, Any]:
    """Each control's value in display units for a scenario config."""
    return {c.name: c.to_display(cfg.get_path(c.path)) for c in CONTROLS}


def slider_range(control: Control, value: float) -> tuple[float, float]:
    """The slider's (min, max) in display units, widened so the scenario's own value fits."""
    return min(control.lo, value), max(control.hi, value)


def settings_for(scenario: str, cfg: _HasPaths) -> dict[str, Any]:
    """The page's settings for a freshly picked scenario: its name and its own control values."""
    return {"scenario": scenario, **control_defaults(cfg)}


def overrides_from_controls(cfg: _HasPaths, values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted-path overrides for the controls whose value differs from the scenario's own.

    ``values`` maps control names to display values; ``None`` means "the scenario's value";
    a ``"scenario"`` key is ignored.
    """
    out: dict[str, Any] = {}
    for name, shown in values.items():
        if shown is None or name == "scenario":
            continue
        c = CONTROLS_BY_NAME.get(name)
        if c is None:
            raise ValueError(f"unknown control {name!r}; known: {', '.join(CONTROLS_BY_NAME)}")
        new = c.to_scenario(shown)
        old = cfg.get_path(c.path)
        if c.kind == "bool" and bool(old) == new:
            continue
        if c.kind == "float" and abs(float(old) - new) <= 1e-9 * max(1.0, abs(new)):
            continue
        out[c.path] = new
    return out


def parse_seed(seed: Any) -> int:
    """The seed typed on the page as a non-negative int; ValueError with the allowed range otherwise."""
    try:
        value = int(str(seed).strip())
    except ValueError:
        raise ValueError(f"seed: expected a whole number between 0 and 2**63-1, got {seed!r}") from None
    if not 0 <= value < 2**63:
        raise ValueError(f"seed: expected a whole number between 0 and 2**63-1, got {seed!r}")
    return value
