"""Snippet variables: ``{{first_name}}`` (of the first recipient), ``{{principal}}``, ``{{my_name}}``, ``{{date}}``.

``{{date}}`` is today in the principal's zone, not the assistant's: the text goes out under the principal's name.
Unknown variables are left as typed so the user sees them before sending.
"""
from __future__ import annotations

import re
from datetime import datetime

from assistant.core import timezones
from assistant.domain import Address, Principal

VARIABLES = ("first_name", "principal", "my_name", "date")
_VARIABLE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def first_name(recipient: Address | None) -> str:
    if recipient is None:
        return ""
    name = (recipient.name or "").strip()
    if "," in name:  # "Obi, Ada"
        name = name.split(",", 1)[1].strip()
    if name:
        return name.split()[0]
    local = recipient.email.partition("@")[0]
    return re.split(r"[._+-]", local)[0].capitalize()


def expand(text: str, *, principal: Principal, recipient: Address | None, my_name: str,
           now_utc: datetime | None = None) -> str:
    local_now = timezones.in_zone(now_utc or timezones.now_utc(), principal.timezone)
    values = {
        "first_name": first_name(recipient),
        "principal": principal.name,
        "my_name": my_name,
        "date": f"{local_now:%A %d %B %Y}".replace(" 0", " "),
    }
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)
