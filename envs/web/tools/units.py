"""Unit conversion for the unit_convert tool: length, mass, volume, time, temperature."""

from __future__ import annotations

from agentgym.registry import suggest

# unit -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 0.001),
    "cm": ("length", 0.01),
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "in": ("length", 0.0254),
    "ft": ("length", 0.3048),
    "yd": ("length", 0.9144),
    "mi": ("length", 1609.344),
    "g": ("mass", 0.001),
    "kg": ("mass", 1.0),
    "t": ("mass", 1000.0),
    "lb": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
    "ml": ("volume", 0.001),
    "l": ("volume", 1.0),
    "gal": ("volume", 3.785411784),
    "s": ("time", 1.0),
    "min": ("time", 60.0),
    "h": ("time", 3600.0),
    "day": ("time", 86400.0),
    "c": ("temperature", 1.0),
    "f": ("temperature", 1.0),
    "k": ("temperature", 1.0),
}
ALIASES = {
    "meter": "m",
    "meters": "m",
    "metre": "m",
    "kilometer": "km",
    "kilometers": "km",
    "mile": "mi",
    "miles": "mi",
    "foot": "ft",
    "feet": "ft",
    "inch": "in",
    "inches": "in",
    "kilogram": "kg",
    "kilograms": "kg",
    "gram": "g",
    "grams": "g",
    "pound": "lb",
    "pounds": "lb",
    "lbs": "lb",
    "liter": "l",
    "liters": "l",
    "litre": "l",
    "gallon": "gal",
    "gallons": "gal",
    "hour": "h",
    "hours": "h",
    "minute": "min",
    "minutes": "min",
    "second": "s",
    "seconds": "s",
    "days": "day",
    "celsius": "c",
    "fahrenheit": "f",
    "kelvin": "k",
    "°c": "c",
    "°f": "f",
}


class UnitError(ValueError):
    """An unknown unit or a conversion between dimensions."""


def canonical_unit(unit: str) -> str:
    u = str(unit).strip().lower()
    u = ALIASES.get(u, u)
    if u not in UNITS:
        raise UnitError(
            f"unknown unit {unit!r}.{suggest(u, list(UNITS) + list(ALIASES))} "
            f"Known: {', '.join(UNITS)}"
        )
    return u


def _to_kelvin(value: float, unit: str) -> float:
    return {"c": value + 273.15, "f": (value - 32) * 5 / 9 + 273.15, "k": value}[unit]


def _from_kelvin(value: float, unit: str) -> float:
    return {"c": value - 273.15, "f": (value - 273.15) * 9 / 5 + 32, "k": value}[unit]


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """``value`` in ``from_unit`` expressed in ``to_unit``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnitError(f"value must be a number, got {value!r}")
    a, b = canonical_unit(from_unit), canonical_unit(to_unit)
    (dim_a, fa), (dim_b, fb) = UNITS[a], UNITS[b]
    if dim_a != dim_b:
        raise UnitError(f"cannot convert {dim_a} ({a}) to {dim_b} ({b})")
    if dim_a == "temperature":
        return _from_kelvin(_to_kelvin(float(value), a), b)
    return float(value) * fa / fb
