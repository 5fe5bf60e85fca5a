"""Principals' colours: a qualitative palette of colours far apart (one blue), and which one a new principal gets.

A principal is told apart at a glance by their colour (the sidebar, every dialog's icon, the calendar), so a new one
gets the first colour of :data:`PRINCIPAL_COLOURS` that is not near any colour in use, nearness being the CIE76 colour
difference in CIELAB: colours closer than :data:`NEAR` read as the same one (the old default #3b82f6 was 19 from the
demo's #2563eb).
"""
from __future__ import annotations

from collections.abc import Iterable

# Tailwind's 600 shades mostly: legible as a chip and as text on light and dark backgrounds; in the order given.
PRINCIPAL_COLOURS = (
    "#2563eb",  # blue
    "#dc2626",  # red
    "#16a34a",  # green
    "#d97706",  # amber
    "#9333ea",  # purple
    "#db2777",  # pink
    "#0d9488",  # teal
    "#7c2d12",  # brown
    "#57534e",  # stone grey
    "#84cc16",  # lime
    "#86198f",  # plum
)
NEAR = 30.0


def lab(colour: str) -> tuple[float, float, float]:
    """``#rrggbb`` in CIELAB (D65)."""
    text = colour.strip().lstrip("#")
    if len(text) != 6:
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    channels = [int(text[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def distance(a: str, b: str) -> float:
    """How different two colours look (CIE76 ΔE): about 2 is just noticeable, under :data:`NEAR` the same at a glance."""
    return float(sum((p - q) ** 2 for p, q in zip(lab(a), lab(b), strict=True)) ** 0.5)


def distinct_colour(used: Iterable[str]) -> str:
    """The colour for a new principal: the first of the palette far from every colour in ``used`` (colours that are
    not ``#rrggbb`` are ignored); when every one is near one in use, the one farthest from its nearest."""
    taken = []
    for colour in used:
        try:
            lab(colour)
        except ValueError:
            continue
        taken.append(colour)
    for colour in PRINCIPAL_COLOURS:
        if all(distance(colour, other) >= NEAR for other in taken):
            return colour
    return max(PRINCIPAL_COLOURS, key=lambda c: min(distance(c, other) for other in taken))
