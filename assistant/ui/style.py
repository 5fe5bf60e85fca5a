"""Look and feel: icons drawn in the palette's own text colour, event colours from a principal's colour, a dark palette.

Views take every colour from the widget's palette (roles, not literal black or white), so the system's light or dark
theme carries through; the only colours of our own are a principal's, blended into the palette's base.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from assistant.core.resources import resource

ICON_NAMES = ("sync", "compose", "calendar", "inbox", "search", "warning", "attachment", "flag", "pending")
_ICON_SIZES = (16, 20, 24, 32, 48, 64)
_INK = "#000000"  # the one colour the SVGs are drawn in; replaced by the palette's text colour when loaded
NOW_LINE = QColor("#e5484d")


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


@lru_cache(maxsize=64)
def _icon(name: str, ink: str) -> QIcon:
    path = resource("icons", f"{name}.svg")
    svg = path.read_text(encoding="utf-8").replace(_INK, ink)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError(f"{path} is not a valid SVG")
    icon = QIcon()
    for size in _ICON_SIZES:  # pixmaps up to 64 px: sharp at 2x and 3x device pixel ratios
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon


def app_icon() -> QIcon:
    """The app's own icon (``resources/icons/assistant.svg``) in its own colours: the window's, the tray's."""
    return _icon("assistant", _INK)


def app_icon_path() -> Path:
    """The same icon as a file, for what takes a path (a desktop notification's icon)."""
    return resource("icons", "assistant.svg")


def icon(name: str, palette: QPalette | None = None) -> QIcon:
    """A toolbar icon from ``resources/icons/NAME.svg``, drawn in the palette's button-text colour."""
    from PySide6.QtWidgets import QApplication

    palette = palette or QApplication.palette()
    return _icon(name, palette.color(QPalette.ColorRole.ButtonText).name())


def tinted_icon(name: str, colour: QColor | str) -> QIcon:
    """An icon from ``resources/icons/NAME.svg`` drawn in a colour of its own (a flag in the flag colour)."""
    return _icon(name, QColor(colour).name())


FLAG_COLOUR = QColor("#e5484d")


def blend(colour: QColor, onto: QColor, amount: float) -> QColor:
    """``amount`` of ``colour`` over ``onto``, opaque."""
    return QColor.fromRgbF(
        colour.redF() * amount + onto.redF() * (1 - amount),
        colour.greenF() * amount + onto.greenF() * (1 - amount),
        colour.blueF() * amount + onto.blueF() * (1 - amount),
    )


def event_colours(principal_colour: str, palette: QPalette) -> tuple[QColor, QColor, QColor]:
    """An event's fill, border and text: the principal's colour blended into the palette's base; the palette's text."""
    colour = QColor(principal_colour)
    if not colour.isValid():
        colour = palette.color(QPalette.ColorRole.Highlight)
    base = palette.color(QPalette.ColorRole.Base)
    fill = blend(colour, base, 0.35 if is_dark(palette) else 0.22)
    border = colour if not is_dark(palette) else colour.lighter(125)
    return fill, border, palette.color(QPalette.ColorRole.Text)


def dark_palette() -> QPalette:
    """A dark palette like the Fusion style's dark themes, for screenshots and tests of the dark look."""
    p = QPalette()
    roles = QPalette.ColorRole
    window, base, text = QColor("#1f2126"), QColor("#17181c"), QColor("#e6e6e6")
    for role, colour in (
        (roles.Window, window), (roles.WindowText, text), (roles.Base, base), (roles.AlternateBase, QColor("#23252b")),
        (roles.ToolTipBase, QColor("#2b2e35")), (roles.ToolTipText, text), (roles.Text, text),
        (roles.Button, QColor("#2a2d33")), (roles.ButtonText, text), (roles.BrightText, QColor("#ff6b6b")),
        (roles.Highlight, QColor("#3d7bd9")), (roles.HighlightedText, QColor("#ffffff")),
        (roles.Link, QColor("#7aa7ff")), (roles.PlaceholderText, QColor("#8b8f98")), (roles.Mid, QColor("#3a3d44")),
        (roles.Midlight, QColor("#33363d")), (roles.Dark, QColor("#101114")), (roles.Light, QColor("#45484f")),
        (roles.Shadow, QColor("#000000")),
    ):
        p.setColor(role, colour)
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6f78"))
    return p
