"""How the report writes figures: milliseconds, rates, sizes, durations; "-" when unknown.

Every formatter takes a figure of the run record (a number, or None where nothing was
measured) or a value as a monitor file held it (anything: those files are read as they
are), and never raises: a report with a "-" beats no report.
"""

from __future__ import annotations

import math

MISSING = "-"
MIB = 1024 * 1024


def finite(value: object) -> float | None:
    """A JSON value as a finite float, or None (null, text, true/false, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def text(value: object) -> str:
    """A cell's text; None is empty."""
    return "" if value is None else str(value)


def number(value: object, decimals: int = 0) -> str:
    figure = finite(value)
    if figure is None:
        return MISSING
    return f"{figure:,.{decimals}f}"


def ms(value: object) -> str:
    """Milliseconds with as many decimals as the size calls for (0.012 ms and 1,250 ms)."""
    figure = finite(value)
    if figure is None:
        return MISSING
    if figure == 0 or abs(figure) >= 100:
        return f"{figure:,.0f}"
    if abs(figure) >= 10:
        return f"{figure:.1f}"
    if abs(figure) >= 1:
        return f"{figure:.2f}"
    return f"{figure:.3f}"


def per_call(value: object) -> str:
    """A count per call: whole numbers as they are (3), others to two decimals (2.50)."""
    figure = finite(value)
    if figure is None:
        return MISSING
    return f"{figure:,.0f}" if figure.is_integer() else f"{figure:,.2f}"


def percent(fraction: object) -> str:
    """A fraction (0.0123) as a percentage (1.23 %)."""
    figure = finite(fraction)
    return MISSING if figure is None else f"{figure * 100:.2f} %"


def delta(ratio: object) -> str:
    """A current/baseline ratio as a signed change: 1.12 -> +12.0 %."""
    figure = finite(ratio)
    return MISSING if figure is None else f"{(figure - 1) * 100:+.1f} %"


def mebibytes(value: object) -> str:
    figure = finite(value)
    if figure is None:
        return MISSING
    if figure >= 1024 * MIB:
        return f"{figure / (1024 * MIB):.2f} GiB"
    return f"{figure / MIB:.1f} MiB"


def duration(seconds: object) -> str:
    """Seconds as "45 s", "12 min 05 s" or "1 h 02 min"."""
    figure = finite(seconds)
    if figure is None:
        return MISSING
    whole = round(figure)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
