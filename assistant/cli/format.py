"""What every command group shares: reading the workspace, tables, one JSON object, times, one-line errors, the parser."""
from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from assistant.core import timezones

PROG = "assistant"

# -- output helpers ----------------------------------------------------------------------------------------------------
iso_utc = timezones.iso_utc
iso_local = timezones.iso_local


def shown(dt: datetime | None, zone: str) -> str:
    return "" if dt is None else f"{timezones.in_zone(dt, zone):%Y-%m-%d %H:%M %Z}"


def width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 0 if unicodedata.combining(ch) else 1
               for ch in text)


def clip_text(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if width(text) <= limit:
        return text
    if text.isascii():
        return text[: limit - 1] + "…"
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def table(headers: Sequence[str], rows: list[Sequence[Any]], clip: dict[int, int] | None = None) -> str:
    clip = clip or {}
    cells = [[clip_text(str(v), clip.get(i, 200)) for i, v in enumerate(row)] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v + " " * (widths[i] - width(v)) for i, v in enumerate(values)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


class Output:
    def __init__(self, as_json: bool):
        self.as_json = as_json

    def emit(self, data: dict[str, Any], human: Callable[[], str]) -> None:
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            text = human()
            if text:
                print(text)


# -- helpers shared by commands ----------------------------------------------------------------------------------------
def open_store(args: argparse.Namespace):
    from assistant.store import Store

    return Store(args.workspace)


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line after the usage, as argparse does, but with our prefix
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: {message}\n")


def one_line(text: str) -> str:
    return " ".join(text.split())


