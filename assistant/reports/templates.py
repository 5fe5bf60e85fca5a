"""A principal's report template: its rules (the one way a template is saved) and the language of its dates.

Dates are written by Babel from the CLDR data for the template's locale, so a principal who reads German gets
"Mo., 7. Dez. 2026" and one who reads Japanese "2026年12月7日(月)"; the rest of the report is the assistant's words
(greeting and sign-off are theirs to write).
"""
from __future__ import annotations

from datetime import date, time

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

from assistant.core.errors import InvalidInput
from assistant.domain import ReportTemplate
from assistant.domain.reports import SECTIONS
from assistant.store import Store
from assistant.store import reports as report_store

DEFAULT_LOCALE = "en"
LONGEST_TEXT = 200  # a greeting, sign-off or name longer than this is not one


def check_locale(text: str) -> str:
    """A CLDR locale as Babel names it (``en-GB`` → ``en_GB``), '' for the default; a one-line error otherwise."""
    text = text.strip().replace("-", "_")
    if not text:
        return ""
    try:
        return str(Locale.parse(text))
    except (UnknownLocaleError, ValueError):
        raise InvalidInput(f"{text!r} is not a language this app can write dates in: give a locale such as en_GB, "
                           "de, fr or ja") from None


def parse_sections(text: str) -> tuple[str, ...]:
    """``mail,calls`` → the sections in the report's order; unknown names refused."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise InvalidInput(f"no report section {unknown[0]!r}: the sections are {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in names)


def parse_at(text: str) -> time | None:
    """``17:30`` → a wall-clock time; ``off`` or '' → None."""
    text = text.strip().lower()
    if text in ("", "off", "none", "no"):
        return None
    try:
        return time.fromisoformat(text).replace(second=0, microsecond=0)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a time of day: give it as HH:MM (their time), or 'off'") from None


def locale_name(code: str) -> str:
    """A locale's name in its own language ("Deutsch", "日本語", "English (United Kingdom)")."""
    try:
        return str(Locale.parse(code).display_name or code)
    except (UnknownLocaleError, ValueError):
        return code


def _one_line(text: str, what: str) -> str:
    text = text.strip()
    if "\n" in text or len(text) > LONGEST_TEXT:
        raise InvalidInput(f"the {what} is one line of at most {LONGEST_TEXT} characters")
    return text


def save_template(store: Store, principal_id: int, t: ReportTemplate) -> ReportTemplate:
    """Check and store a principal's template: the one write path of ``report_templates``."""
    t.sections = parse_sections(",".join(t.sections))
    t.date_locale = check_locale(t.date_locale)
    t.greeting = _one_line(t.greeting, "greeting")
    t.sign_off = _one_line(t.sign_off, "sign-off")
    t.signed = _one_line(t.signed, "name signed")
    report_store.write_template(store.scope(principal_id), t)
    return t


def template(store: Store, principal_id: int) -> ReportTemplate:
    return report_store.template(store.scope(principal_id))


def date_locale(t: ReportTemplate, region: str) -> str:
    """The template's language of dates; by default English as written in the principal's region (``en_US``: "Mon,
    Dec 7, 2026"; ``en_GB``: "Mon, 7 Dec 2026"), or plain English where CLDR has no such variant."""
    if t.date_locale:
        return t.date_locale
    try:
        return str(Locale.parse(f"en_{region.upper()}"))
    except (UnknownLocaleError, ValueError):
        return DEFAULT_LOCALE


def long_date(day: date, locale: str) -> str:
    """The day with its weekday and year: "Mon, 7 Dec 2026", "Mo., 7. Dez. 2026", "2026年12月7日(月)"."""
    return format_skeleton("yMMMEd", day, locale=locale)


def short_date(day: date, locale: str) -> str:
    """The day with its weekday, no year: "Mon 7 Dec"."""
    return format_skeleton("MMMEd", day, locale=locale)


def weekday(day: date, locale: str) -> str:
    """The weekday's name: "Monday", "Montag", "月曜日"."""
    return format_date(day, "EEEE", locale=locale)


def greeting(t: ReportTemplate, name: str) -> str:
    first = name.split()[0] if name.split() else name
    return t.greeting.replace("{first}", first).replace("{name}", name)
