"""Choosing a principal's time zone: an IANA name typed with completion, accepted only from the list."""
from __future__ import annotations

import functools
import zoneinfo

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget

from assistant.core import timezones

INVALID_ZONE = "Pick a time zone from the list, such as America/New_York."

_ZONES: list[str] | None = None


def zone_names() -> list[str]:
    """The IANA zones a principal can live in (Area/City names and UTC), sorted; read once."""
    global _ZONES
    if _ZONES is None:
        timezones.configure()
        _ZONES = sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")
    return _ZONES


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zone_names())


class ZonePicker(QComboBox):
    """An editable list of :func:`zone_names`, completed as you type (any part of the name, any case)."""

    def __init__(self, zone: str | None = None, parent: QWidget | None = None):
        """Starts at ``zone``, or the assistant's own zone."""
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.addItems(zone_names())
        completer = QCompleter(QStringListModel(zone_names(), self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        self.setAccessibleName("Time zone")
        self.set_zone(zone or timezones.assistant_zone_name())

    def zone(self) -> str:
        """The name as typed or picked, trimmed; check :meth:`is_valid` before using it."""
        return self.currentText().strip()

    def set_zone(self, zone: str) -> None:
        self.setCurrentText(zone)

    def is_valid(self) -> bool:
        return self.zone() in _known_zones()

    def problem(self) -> str:
        """What is wrong with the zone, as one sentence a form shows, or ``""``."""
        return "" if self.is_valid() else INVALID_ZONE
