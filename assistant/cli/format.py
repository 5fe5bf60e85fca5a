"""What every command group shares: reading the workspace, tables, one JSON object, times, one-line errors, the parser
(``Parser``, from ``assistant.cli.parser`` when asked for)."""
from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from assistant.core import timezones

if TYPE_CHECKING:
    import argparse

    from assistant.domain import Principal
    from assistant.store import Store

PROG = "assistant"

# -- output helpers ----------------------------------------------------------------------------------------------------
iso_utc = timezones.iso_utc
iso_local = timezones.iso_local


def shown(dt: datetime | None, zone: str) -> str:
    return "" if dt is None else f"{timezones.in_zone(dt, zone):%Y-%m-%d %H:%M %Z}"


def width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


@lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:  # a table of names repeats its letters: each is looked up once
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 0 if unicodedata.combining(ch) else 1


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


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], clip: dict[int, int] | None = None, *,
          empty: str | None = None) -> str:
    """Columns as wide as their widest cell (cells clipped to ``clip[column]``); with no rows, ``empty`` if given."""
    if empty is not None and not rows:
        return empty
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


class ProgressLine:
    """One line on stderr, written over in place while a long command works; only on a terminal (a pipe or a log gets
    nothing, and ``--json`` output on stdout is never touched). A context manager: the line ends with the work."""

    def __init__(self) -> None:
        self.stream = sys.stderr
        self.on_terminal = self.stream.isatty()
        self.shown = False

    def show(self, text: str) -> None:
        if self.on_terminal:
            self.stream.write(f"\r{text}")
            self.stream.flush()
            self.shown = True

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


# -- helpers shared by commands ----------------------------------------------------------------------------------------
@contextmanager
def open_workspace(where: argparse.Namespace | str | os.PathLike[str], *, create: bool = True) -> Iterator[Store]:
    """The store of ``--workspace`` (or of the default folder) given the parsed arguments, or of a folder; closed when
    the block ends, however it ends. With ``create=False`` a folder without a workspace is an error."""
    from assistant.store import Store

    store = Store(where if isinstance(where, (str, os.PathLike)) else where.workspace, create=create)
    try:
        yield store
    finally:
        store.close()


def principal_from(args: argparse.Namespace, store: Store, option: str = "principal") -> Principal:
    """The principal an option names (``--principal NAME`` unless told otherwise); an unknown name is one line that
    lists the known ones."""
    return store.principal_by_name(getattr(args, option))


def principals_from(args: argparse.Namespace, store: Store) -> list[Principal]:
    """The principal ``--principal`` names, or without it every principal."""
    return [principal_from(args, store)] if args.principal else store.principals()


def __getattr__(name: str) -> Any:
    """``Parser``, from :mod:`assistant.cli.parser`: argparse (with gettext, locale and shutil) is imported only where a
    parser is built, not by a plain ``assistant search`` (``main._plain_search`` reads its arguments)."""
    if name == "Parser":
        from assistant.cli.parser import Parser

        return Parser
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def one_line(text: str) -> str:
    return " ".join(text.split())


