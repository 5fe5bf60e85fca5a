from __future__ import annotations

from PySide6.QtCore import Qt

from assistant.core import timezones
from assistant.ui.widgets.zones import INVALID_ZONE, ZonePicker, zone_names


def test_zone_names_are_sorted_iana_areas_and_utc():
    names = zone_names()
    assert names == sorted(names)
    assert {"UTC", "America/New_York", "Africa/Lagos", "Asia/Tokyo"} <= set(names)
    assert all("/" in name or name == "UTC" for name in names)


def test_zone_picker_starts_at_the_given_zone_or_the_assistants(qtbot):
    picker = ZonePicker("Asia/Tokyo")
    qtbot.addWidget(picker)
    assert picker.zone() == "Asia/Tokyo" and picker.is_valid()
    assert picker.accessibleName() == "Time zone"
    assert picker.count() == len(zone_names())
    default = ZonePicker()
    qtbot.addWidget(default)
    assert default.zone() == timezones.assistant_zone_name()


def test_zone_picker_accepts_only_names_from_the_list(qtbot):
    picker = ZonePicker("UTC")
    qtbot.addWidget(picker)
    picker.set_zone(" Africa/Lagos ")
    assert picker.zone() == "Africa/Lagos" and picker.is_valid() and picker.problem() == ""
    picker.lineEdit().setText("Mars/Olympus")  # as typed (keyClicks would open the completer's popup)
    qtbot.keyClick(picker.lineEdit(), Qt.Key.Key_Return)
    assert picker.zone() == "Mars/Olympus" and not picker.is_valid()
    assert picker.problem() == INVALID_ZONE == "Pick a time zone from the list, such as America/New_York."
    assert picker.count() == len(zone_names())  # what was typed is not added to the list


def test_zone_picker_completes_any_part_of_the_name(qtbot):
    picker = ZonePicker("UTC")
    qtbot.addWidget(picker)
    completer = picker.completer()
    assert completer.caseSensitivity() == Qt.CaseSensitivity.CaseInsensitive
    completer.setCompletionPrefix("lagos")
    assert completer.currentCompletion() == "Africa/Lagos"
