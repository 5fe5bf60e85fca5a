"""iCalendar reading: one :class:`~assistant.domain.CalendarEvent` per UID (master plus overrides), expanded at view
time with ``recurring_ical_events``. Bad input gives one-line errors; the rest of the file is kept.

Times without a zone (floating) and times whose TZID we cannot resolve are read as UTC, with a warning for the latter.
All-day events carry ``start_date``/``end_date`` (end exclusive, as in iCalendar); their UTC instants are midnight UTC of
those dates, so views must place all-day items by date, not by instant.
"""
from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from assistant.domain import CalendarEvent, EventOccurrence

if TYPE_CHECKING:
    import icalendar
# icalendar and recurring_ical_events are imported where a calendar is read or expanded (on the worker), not with this
# module: the window imports it to build the calendar tab, and they were a tenth of the launch before the first paint.

UTC = UTC
PRODID = "-//Assistant//Assistant//EN"
MAX_ERRORS = 200
# Long enough to reach a few occurrences of any sane rule, short enough to stay fast on big imports.
_VALIDATION_WINDOW = timedelta(days=40)
_VALIDATION_OCCURRENCES = 500
_RECURRENCE_PROPS = ("RRULE", "RDATE", "EXDATE", "EXRULE")
_BEGIN = re.compile(r"^BEGIN:([A-Za-z0-9-]+)\s*$", re.I)
_END = re.compile(r"^END:([A-Za-z0-9-]+)\s*$", re.I)


def decode_text(data: bytes | str) -> str:
    """The calendar as text: UTF-8 (the standard), else Windows-1252; byte-order marks and NULs removed."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    else:
        text = data
    return text.replace("\ufeff", "").replace("\x00", "")


def looks_like_icalendar(head: bytes) -> bool:
    """True when the first line of ``head`` opens an iCalendar object (BOM and leading blank lines tolerated)."""
    text = decode_text(head[:4096]).lstrip()
    first = text.split("\n", 1)[0].strip().upper()
    return first.startswith("BEGIN:V") and first not in ("BEGIN:VCARD", "BEGIN:VNOTE")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


# -- reading the file -----------------------------------------------------------------------------------------------
def _top_level_blocks(text: str) -> list[tuple[str, str]]:
    """(component name, source) for each component directly inside a VCALENDAR, or at the top if there is none."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[tuple[str, str]] = []
    stack: list[str] = []
    current: list[str] = []
    for line in lines:
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            name = begin.group(1).upper()
            if name == "VCALENDAR" and not stack:
                continue
            stack.append(name)
            current.append(line)
            continue
        if end:
            name = end.group(1).upper()
            if name == "VCALENDAR" and not stack:
                continue
            if stack:
                current.append(line)
                if name in stack:
                    while stack and stack.pop() != name:
                        pass
                if not stack:
                    first = _BEGIN.match(current[0])
                    blocks.append((first.group(1).upper() if first else "", "\n".join(current) + "\n"))
                    current = []
            continue
        if stack:
            current.append(line)
    return blocks


def _cut_short(text: str) -> str | None:
    """What a truncated file leaves open ("vevent 'Board call'"; "" for only the VCALENDAR), or None when every BEGIN
    has its END."""
    stack: list[tuple[str, int]] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            stack.append((begin.group(1).upper(), number))
        elif end and stack and any(name == end.group(1).upper() for name, _ in stack):
            while stack and stack.pop()[0] != end.group(1).upper():
                pass
    inner = [(name, number) for name, number in stack if name != "VCALENDAR"]
    if not stack:
        return None
    if not inner:
        return ""  # only the calendar itself left open: every component in it is whole
    name, number = inner[0]
    summary = next((m.group(1).strip()[:60] for m in (re.match(r"^SUMMARY[^:]*:(.*)$", line, re.I)
                                                        for line in lines[number:]) if m), "")
    return name.lower() + (f" {summary!r}" if summary else "")


def _wrap(blocks: Iterable[str]) -> str:
    return "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:" + PRODID + "\n" + "".join(blocks) + "END:VCALENDAR\n"


def _components(text: str, errors: list[str]) -> list[icalendar.Component]:
    """Top-level components of every calendar in ``text``. If the file as a whole cannot be read, each component is
    read on its own so that one broken one costs only itself."""
    import icalendar

    open_at_end = _cut_short(text)
    if open_at_end is not None:
        # icalendar reads a file cut off before its END lines as nothing at all: keep every complete component instead.
        if open_at_end:
            errors.append(f"{open_at_end} skipped: the file is cut short (no END line)")
        return _blocks_one_by_one(text, None, errors)
    try:
        roots = icalendar.Calendar.from_ical(text, multiple=True)
        out: list[icalendar.Component] = []
        for root in roots:
            if root.name == "VCALENDAR":
                out.extend(root.subcomponents)
            else:
                out.append(root)
        return out
    except Exception as exc:  # noqa: BLE001 - icalendar raises ValueError, KeyError, IndexError... on junk
        whole_file_error = _short(exc)
    return _blocks_one_by_one(text, whole_file_error, errors)


_ALARM_BLOCK = re.compile(r"^BEGIN:VALARM\r?$.*?^END:VALARM\r?$\n?", re.M | re.S | re.I)
_TRIGGER_LINE = re.compile(r"^(TRIGGER(?:;[^:\r\n]*)?:)([^\r\n]*)$", re.M | re.I)


def _repair_triggers(source: str) -> tuple[str, list[str]]:
    """Alarm triggers whose sign stands inside the duration (``PT-2H``) rewritten as meant (``-PT2H``); what was
    changed, for the report."""
    notes: list[str] = []

    def fix(match: re.Match[str]) -> str:
        value = match.group(2).strip()
        if re.fullmatch(r"\+?P[0-9WDTHMS]*-[0-9WDTHMS-]*", value, re.I):
            meant = "-" + value.lstrip("+").replace("-", "")
            notes.append(f"its alarm's trigger {value} was read as {meant}")
            return match.group(1) + meant
        return match.group(0)

    return _TRIGGER_LINE.sub(fix, source), notes


def _blocks_one_by_one(text: str, whole_file_error: str | None, errors: list[str]) -> list[icalendar.Component]:
    import icalendar

    blocks = _top_level_blocks(text)
    if not blocks:
        if whole_file_error is not None or not errors:
            errors.append(f"not a readable calendar: {whole_file_error or 'no complete component in it'}")
        return []
    timezones: list[str] = []
    out: list[icalendar.Component] = []
    for name, source in blocks:
        if name != "VTIMEZONE":
            continue
        try:
            icalendar.Calendar.from_ical(_wrap([source]))
            timezones.append(source)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"time zone definition skipped: {_short(exc)}")
    for name, source in blocks:
        if name == "VTIMEZONE":
            continue
        summary = re.search(r"^SUMMARY[^:]*:(.*)$", source, re.M | re.I)
        label = f"{name.lower() or 'component'}{f' {summary.group(1).strip()[:60]!r}' if summary else ''}"
        try:
            cal = icalendar.Calendar.from_ical(_wrap([*timezones, source]))
            out.extend(c for c in cal.subcomponents if c.name != "VTIMEZONE")
            continue
        except Exception as exc:  # noqa: BLE001
            error = _short(exc)
        # A broken alarm costs the alarm, not the event (as calendar apps do): repaired when its trigger only has its
        # sign inside (PT-2H for -PT2H, a common exporter's slip), else dropped.
        repaired, notes = _repair_triggers(source)
        for candidate, said in ((repaired, notes), (_ALARM_BLOCK.sub("", source), ["its alarm could not be read and "
                                                                                    "was dropped"])):
            if candidate == source:
                continue
            try:
                cal = icalendar.Calendar.from_ical(_wrap([*timezones, candidate]))
            except Exception:  # noqa: BLE001 - the next way, or skipped below
                continue
            out.extend(c for c in cal.subcomponents if c.name != "VTIMEZONE")
            errors.extend(f"{label}: {note}" for note in said)
            break
        else:
            errors.append(f"{label} skipped: {error}")
    try:
        out[:0] = icalendar.Calendar.from_ical(_wrap(timezones)).subcomponents
    except Exception:  # noqa: BLE001 - each one parsed alone above; together they still might not
        pass
    return out


# -- values ---------------------------------------------------------------------------------------------------------
def _tzid(component: icalendar.Component, name: str) -> str:
    prop = component.get(name)
    if isinstance(prop, list):
        prop = prop[0] if prop else None
    params = getattr(prop, "params", None)
    return str(params.get("TZID", "")) if params else ""


def _value(component: icalendar.Component, name: str):
    """The decoded value of a property, or None when it is missing or broken."""
    if name not in component:
        return None
    try:
        value = component.decoded(name)
    except Exception:  # noqa: BLE001 - broken properties raise on access
        return None
    if isinstance(value, list):  # a property given twice: the first one wins
        value = value[0] if value else None
    return value


def _as_utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return datetime.combine(value, time(0), UTC)


def _zone_name(value: datetime | date | None) -> str:
    if isinstance(value, datetime) and isinstance(value.tzinfo, ZoneInfo):
        return value.tzinfo.key
    if isinstance(value, datetime) and value.tzinfo is UTC:
        return "UTC"
    return ""


def _text(component: icalendar.Component, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).strip()


def _reminder_minutes(component: icalendar.Component, start, end) -> int | None:
    for alarm in component.walk("VALARM"):
        trigger_prop = alarm.get("TRIGGER")
        trigger = _value(alarm, "TRIGGER")
        if trigger is None:
            continue
        related_end = str(getattr(trigger_prop, "params", {}).get("RELATED", "")).upper() == "END"
        try:
            if isinstance(trigger, timedelta):
                offset = trigger
                if related_end and start is not None and end is not None:
                    offset += _as_utc(end) - _as_utc(start)
                return max(0, int(-offset.total_seconds() // 60))
            if isinstance(trigger, (datetime, date)) and start is not None:
                return max(0, int((_as_utc(start) - _as_utc(trigger)).total_seconds() // 60))
        except (TypeError, ValueError, OverflowError):
            continue
    return None


def _label(component: icalendar.Component, uid: str) -> str:
    summary = _text(component, "SUMMARY")
    return repr(summary[:60]) if summary else f"UID {uid[:60]!r}"


# -- grouping -------------------------------------------------------------------------------------------------------
@dataclass
class _Series:
    uid: str
    components: list[icalendar.Component] = field(default_factory=list)

    @property
    def master(self) -> icalendar.Component:
        for c in self.components:
            if "RECURRENCE-ID" not in c:
                return c
        return self.components[0]


_SINGLE_VALUED = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "SUMMARY", "LOCATION", "DESCRIPTION")


def _collapse_duplicates(component: icalendar.Component) -> None:
    """Keep the first of a property that may appear only once but was given twice (seen in the wild)."""
    for name in _SINGLE_VALUED:
        value = component.get(name)
        if isinstance(value, list) and value:
            component[name] = value[0]


def _uid(component: icalendar.Component) -> str:
    uid = _text(component, "UID")
    if uid:
        return uid
    try:
        content = component.to_ical()
    except Exception:  # noqa: BLE001
        content = repr(sorted(component.items())).encode("utf-8", "replace")
    return "generated-" + hashlib.sha256(content).hexdigest()[:32]


def _used_tzids(components: Iterable[icalendar.Component]) -> set[str]:
    tzids = set()
    for component in components:
        for sub in component.walk():
            for value in sub.values():
                for item in value if isinstance(value, list) else [value]:
                    params = getattr(item, "params", None)
                    if params and params.get("TZID"):
                        tzids.add(str(params["TZID"]))
    return tzids


def _series_calendar(series: _Series, timezones: dict[str, icalendar.Component]) -> icalendar.Calendar:
    import icalendar

    cal = icalendar.Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    for tzid in sorted(_used_tzids(series.components)):
        if tzid in timezones:
            cal.add_component(timezones[tzid])
    for component in series.components:
        cal.add_component(component)
    return cal


def _check_expansion(cal: icalendar.Calendar, start: datetime) -> None:
    """Expand the series enough to know it reads: its occurrences within the validation window, at most
    ``_VALIDATION_OCCURRENCES`` of them (a rule that never ends costs that much, not the window's worth)."""
    import recurring_ical_events

    end = start + _VALIDATION_WINDOW
    for count, occurrence in enumerate(recurring_ical_events.of(cal).after(start - timedelta(days=1))):
        if count >= _VALIDATION_OCCURRENCES or _as_utc(occurrence.get("DTSTART").dt) >= end:
            break


def _too_frequent(rrule: str) -> str:
    """"every second" or "every minute" for a rule no calendar event has (what no calendar app schedules either),
    else ""."""
    match = re.search(r"(?:^|;)FREQ=(SECONDLY|MINUTELY)(?:;|$)", rrule.upper())
    return {"SECONDLY": "every second", "MINUTELY": "every minute"}[match.group(1)] if match else ""


def _rrule_text(component: icalendar.Component) -> str:
    value = component.get("RRULE")
    if isinstance(value, list):
        value = value[0] if value else None
    return value.to_ical().decode() if value is not None else ""


def _without_broken_properties(
    series: _Series, timezones: dict[str, icalendar.Component], start_utc: datetime
) -> tuple[icalendar.Calendar, str, bool]:
    """First drop only the properties icalendar flagged as broken; if expansion still fails, drop all recurrence and
    the overrides. Returns the calendar, the RRULE left, and whether any recurrence was kept."""
    broken = {str(name).upper() for c in series.components for name, _ in getattr(c, "errors", []) if name}
    broken -= {"DTSTART", "UID"}
    if broken:
        for component in series.components:
            for prop in broken:
                while prop in component:
                    del component[prop]
        cal = _series_calendar(series, timezones)
        try:
            _check_expansion(cal, start_utc)
            master = series.master
            return cal, _rrule_text(master), any(p in master for p in _RECURRENCE_PROPS)
        except Exception:  # noqa: BLE001
            pass
    master = series.master
    for prop in _RECURRENCE_PROPS:
        while prop in master:
            del master[prop]
    series.components = [master]
    return _series_calendar(series, timezones), "", False


def parse_calendar(
    data: bytes, *, principal_id: int, account_id: int, calendar_id: str = ""
) -> tuple[list[CalendarEvent], list[str]]:
    """Events grouped by UID, and one line per thing that could not be read."""
    events, warning_lines, rejections = read_calendar(
        data, principal_id=principal_id, account_id=account_id, calendar_id=calendar_id
    )
    return events, rejections + warning_lines


def read_calendar(
    data: bytes, *, principal_id: int, account_id: int, calendar_id: str = ""
) -> tuple[list[CalendarEvent], list[str], list[str]]:
    """Like :func:`parse_calendar`, with the lines split into warnings (an event kept with a caveat) and rejections
    (a component, or the whole file, dropped)."""
    errors: list[str] = []
    try:
        with warnings.catch_warnings():
            # icalendar warns when it guesses a vendor-prefixed TZID ("/mozilla.org/.../Europe/Berlin"); the guess is
            # what we want, and the workspace is not the place for library warnings.
            warnings.simplefilter("ignore")
            events = _parse(decode_text(data), principal_id, account_id, calendar_id, errors)
    except RecursionError:
        errors.append("calendar nested too deeply to read")
        events = []
    errors = errors[:MAX_ERRORS]
    warning_lines = [" ".join(str(e).split()) for e in errors if getattr(e, "is_warning", False)]
    rejections = [" ".join(str(e).split()) for e in errors if not getattr(e, "is_warning", False)]
    return events, warning_lines, rejections


class _Problem(str):
    """An error line; ``is_warning`` when the event it is about was still kept."""

    is_warning = False


def _warning(text: str) -> _Problem:
    problem = _Problem(text)
    problem.is_warning = True
    return problem


def _parse(text: str, principal_id: int, account_id: int, calendar_id: str, errors: list[str]) -> list[CalendarEvent]:
    components = _components(text, errors)
    timezones: dict[str, icalendar.Component] = {}
    series: dict[str, _Series] = {}
    for component in components:
        if component.name == "VTIMEZONE":
            tzid = _text(component, "TZID")
            if tzid:
                timezones[tzid] = component
        elif component.name == "VEVENT":
            _collapse_duplicates(component)
            uid = _uid(component)
            series.setdefault(uid, _Series(uid)).components.append(component)
    events = []
    for item in series.values():
        try:
            event = _event(item, timezones, principal_id, account_id, calendar_id, errors)
        except Exception as exc:  # noqa: BLE001 - one broken event costs only itself
            errors.append(f"event {_label(item.master, item.uid)} skipped: {_short(exc)}")
            continue
        if event is not None:
            events.append(event)
    return events


def _event(
    series: _Series, timezones: dict[str, icalendar.Component], principal_id: int, account_id: int, calendar_id: str,
    errors: list[str],
) -> CalendarEvent | None:
    master = series.master
    label = _label(master, series.uid)
    start = _value(master, "DTSTART")
    if not isinstance(start, (date, datetime)):
        errors.append(f"event {label} skipped: it has no readable start (DTSTART)")
        return None
    unknown_tzids = sorted({
        _tzid(component, prop)
        for component in series.components
        for prop in ("DTSTART", "DTEND", "RECURRENCE-ID")
        # icalendar leaves a time naive when it could resolve its TZID neither by name nor by a VTIMEZONE
        if _tzid(component, prop) and isinstance(v := _value(component, prop), datetime) and v.tzinfo is None
    })
    if unknown_tzids:
        names = ", ".join(repr(t[:60]) for t in unknown_tzids[:3])
        errors.append(_warning(f"event {label}: unknown time zone {names}, times read as UTC"))
    end = _value(master, "DTEND")
    if not isinstance(end, (date, datetime)) or type(end) is not type(start):
        duration = _value(master, "DURATION")
        if isinstance(duration, timedelta):
            end = start + duration
        elif isinstance(start, datetime):
            end = start
        else:
            end = start + timedelta(days=1)
    all_day = not isinstance(start, datetime)
    start_utc, end_utc = _as_utc(start), _as_utc(end)
    if end_utc < start_utc:
        errors.append(_warning(f"event {label}: ends before it starts, end set to its start"))
        end, end_utc = start, start_utc

    often = _too_frequent(_rrule_text(master))
    if often:  # bounded work on any input: such a rule is refused before anything expands it
        for component in series.components:
            for prop in _RECURRENCE_PROPS:
                while prop in component:
                    del component[prop]
        series.components = [c for c in series.components if "RECURRENCE-ID" not in c] or series.components[:1]
        errors.append(_warning(f"event {label}: repeats {often}, which no calendar event does; "
                               "kept as a single event"))
    cal = _series_calendar(series, timezones)
    rrule = _rrule_text(master)
    try:
        _check_expansion(cal, start_utc)
    except Exception as exc:  # noqa: BLE001 - bad RRULE/RDATE/EXDATE/DURATION: drop what is broken, say why
        recurring = any(p in c for c in series.components for p in _RECURRENCE_PROPS)
        cal, rrule, kept = _without_broken_properties(series, timezones, start_utc)
        if not recurring:
            errors.append(_warning(f"event {label}: unreadable property dropped ({_short(exc)})"))
        else:
            outcome = "the rest of its recurrence kept" if kept else "kept as a single event"
            errors.append(_warning(f"event {label}: unreadable recurrence ({_short(exc)}), {outcome}"))
    try:
        ics = cal.to_ical().decode("utf-8")
    except Exception as exc:  # noqa: BLE001
        errors.append(f"event {label} skipped: cannot be written back ({_short(exc)})")
        return None
    return CalendarEvent(
        principal_id=principal_id, account_id=account_id, remote_id=series.uid, uid=series.uid,
        summary=_text(master, "SUMMARY"), start_utc=start_utc, end_utc=end_utc, all_day=all_day,
        start_date=start if all_day else None, end_date=end if all_day else None, timezone=_zone_name(start),
        location=_text(master, "LOCATION"), description=_text(master, "DESCRIPTION"), rrule=rrule, ics=ics,
        calendar_id=calendar_id, reminder_minutes=_reminder_minutes(master, start, end),
    )


# -- expansion ------------------------------------------------------------------------------------------------------
def expand(event: CalendarEvent, start: datetime, end: datetime) -> list[EventOccurrence]:
    """Occurrences of ``event`` overlapping [start, end) (aware datetimes), in time order.

    EXDATEs and RECURRENCE-ID overrides come from ``event.ics``; local times follow their zone's DST rules, so a weekly
    09:00 New York meeting stays at 09:00 New York time across the switch (its UTC hour moves).
    """
    import icalendar
    import recurring_ical_events

    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("expand() needs aware datetimes")
    occurrences: list[EventOccurrence] = []
    components = []
    expanded = False
    if event.ics and not _too_frequent(event.rrule):  # one stored before such rules were refused: its first instant
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cal = icalendar.Calendar.from_ical(event.ics)
                components = recurring_ical_events.of(cal).between(start, end)
            expanded = True
        except Exception:  # noqa: BLE001 - parse_calendar validated it; fall back to the stored instants
            components = []
    if not components and not expanded and event.start_utc is not None:
        end_utc = event.end_utc or event.start_utc
        if event.start_utc < end and (end_utc > start or end_utc == event.start_utc >= start):
            occurrences.append(EventOccurrence(
                event_id=event.id or 0, principal_id=event.principal_id, summary=event.summary,
                start_utc=event.start_utc, end_utc=end_utc, all_day=event.all_day, location=event.location,
                start_date=event.start_date,
            ))
        return occurrences
    for component in components:
        occ_start = _value(component, "DTSTART")
        occ_end = _value(component, "DTEND")
        if not isinstance(occ_start, (date, datetime)):
            continue
        if not isinstance(occ_end, (date, datetime)):
            duration = _value(component, "DURATION")
            occ_end = occ_start + duration if isinstance(duration, timedelta) else occ_start
        all_day = not isinstance(occ_start, datetime)
        occurrences.append(EventOccurrence(
            event_id=event.id or 0, principal_id=event.principal_id,
            summary=_text(component, "SUMMARY") or event.summary, start_utc=_as_utc(occ_start),
            end_utc=_as_utc(occ_end), all_day=all_day, location=_text(component, "LOCATION"),
            start_date=occ_start if all_day else None,
        ))
    occurrences.sort(key=lambda o: o.start_utc)
    return occurrences
