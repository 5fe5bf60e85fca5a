"""1. Import: ``assistant import`` of every maildir beside ``notmuch new`` on the same maildirs, interleaved.

For each principal in turn: add the principal (``assistant principal add``, not timed), then time ``assistant import
<maildir>`` as a whole command and ``notmuch new`` after linking that maildir into notmuch's mail root (so each notmuch run
indexes exactly that principal's messages, as each import does). Which of the two goes first alternates, so neither
always meets a warm page cache. Figures: the median of the per-principal rates, and the ratio. Then calendars, call logs
and boards are imported (timed, no comparison), and the sizes on disk are compared.

Leaves ``ctx.workspace`` (everything imported) and ``ctx.notmuch_db``/``ctx.notmuch_config`` (one notmuch database
over all maildirs; ``ctx.notmuch_folders[name]`` is the principal's folder in it, so ``path:<folder>/**`` limits a
query to them). ``reuse(ctx)`` finds those from the last complete run, for running later sections alone.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.common import Context, Row, dir_size, median

SECTION = "1. Import"


def run_dir(ctx: Context) -> Path:
    return ctx.root / "run"


def notmuch_env(config: Path) -> dict[str, str]:
    return dict(os.environ, NOTMUCH_CONFIG=str(config))


def write_notmuch_config(config: Path, mail_root: Path) -> None:
    config.write_text(
        "[database]\n"
        f"path={mail_root}\n"
        "[user]\n"
        "name=Benchmark\n"
        "primary_email=benchmark@example.invalid\n"
        "[new]\n"
        "tags=inbox;unread;\n"
        "ignore=\n"
        "[search]\n"
        "exclude_tags=\n"
        "[maildir]\n"
        "synchronize_flags=true\n",
        encoding="utf-8",
    )


def _assistant(ctx: Context, workspace: Path, *args: str) -> dict:
    result = subprocess.run(
        [ctx.python, "-m", "assistant", "--workspace", str(workspace), "--json", *args],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"assistant {' '.join(args[:2])} failed: {result.stderr.strip()[:300]}")
    return json.loads(result.stdout)


def _timed_import(ctx: Context, workspace: Path, path: Path, principal: str, expected: int) -> float:
    start = time.perf_counter()
    report = _assistant(ctx, workspace, "import", str(path), "--principal", principal)
    elapsed = time.perf_counter() - start
    if report["imported"] != expected or report["rejected"]:
        raise RuntimeError(f"assistant import of {path} for {principal}: imported {report['imported']} of {expected},"
                           f" rejected {len(report['rejected'])}")
    return elapsed


def _timed_notmuch_new(config: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["notmuch", "new", "--quiet"], env=notmuch_env(config), check=True, capture_output=True)
    return time.perf_counter() - start


def notmuch_count(config: Path, query: str) -> int:
    result = subprocess.run(["notmuch", "count", query], env=notmuch_env(config), check=True, capture_output=True,
                            text=True)
    return int(result.stdout.strip())


def _manifest(ctx: Context) -> dict:
    return json.loads((ctx.root / "manifest.json").read_text(encoding="utf-8"))


def reuse(ctx: Context) -> bool:
    """Point ``ctx`` at the workspace and notmuch database of the last complete import, if there is one."""
    done = run_dir(ctx) / "complete.json"
    try:
        state = json.loads(done.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if state.get("manifest_messages") != _manifest(ctx).get("total_messages"):
        return False
    _attach(ctx, state)
    return True


def _attach(ctx: Context, state: dict) -> None:
    ctx.workspace = Path(state["workspace"])
    if state.get("notmuch_config") and ctx.has_notmuch:
        ctx.notmuch_db = Path(state["notmuch_db"])
        ctx.notmuch_config = Path(state["notmuch_config"])
        ctx.notmuch_folders = dict(state.get("notmuch_folders", {}))


def run(ctx: Context) -> list[Row]:
    manifest = _manifest(ctx)
    base = run_dir(ctx)
    if base.exists():
        shutil.rmtree(base)
    workspace = base / "workspace"
    mail_root = base / "notmuch-mail"  # holds one link per principal to their maildir, added as each is indexed
    config = base / "notmuch-config"
    base.mkdir(parents=True)
    with_notmuch = ctx.has_notmuch
    if with_notmuch:
        mail_root.mkdir()
        write_notmuch_config(config, mail_root)
        subprocess.run(["notmuch", "new", "--quiet"], env=notmuch_env(config), check=True, capture_output=True)

    rates_a: list[float] = []
    rates_b: list[float] = []
    total_a = total_b = 0.0
    folders: dict[str, str] = {}
    principals = manifest["principals"]
    for index, p in enumerate(principals):
        _assistant(ctx, workspace, "principal", "add", p["name"], "--email", p["addresses"][0],
                   "--timezone", p["timezone"], "--region", p["region"])
        maildir = ctx.root / p["maildir"]

        def step_a() -> float:
            return _timed_import(ctx, workspace, maildir, p["name"], p["messages"])

        def step_b() -> float:
            (mail_root / p["slug"]).symlink_to(maildir.resolve(), target_is_directory=True)
            return _timed_notmuch_new(config)

        if with_notmuch and index % 2 == 1:
            time_b, time_a = step_b(), step_a()
        else:
            time_a = step_a()
            time_b = step_b() if with_notmuch else 0.0
        rates_a.append(p["messages"] / time_a)
        total_a += time_a
        if with_notmuch:
            rates_b.append(p["messages"] / time_b)
            total_b += time_b
            folders[p["name"]] = p["slug"]
        print(f"    {p['name']}: assistant {p['messages'] / time_a:,.0f}/s"
              + (f", notmuch {p['messages'] / time_b:,.0f}/s" if with_notmuch else ""), flush=True)

    messages = manifest["total_messages"]
    rows: list[Row] = []
    rate_a = median(rates_a)
    rate_b = median(rates_b) if with_notmuch else None
    ratio = rate_a / rate_b if rate_b else None
    rows.append(Row(SECTION, f"import rate, median of {len(principals)} maildirs", round(rate_a), "msg/s",
                    "≥ 1.0×", round(rate_b) if rate_b else None, ratio, None if ratio is None else ratio >= 1.0,
                    note=f"{messages:,} messages, {manifest['total_mail_bytes'] / 2**30:.1f} GB; whole commands"))
    rows.append(Row(SECTION, "import time, all maildirs", round(total_a, 1), "s", "",
                    round(total_b, 1) if with_notmuch else None, (total_b / total_a) if with_notmuch else None))
    if with_notmuch:
        indexed = notmuch_count(config, "*")
        if indexed != messages:
            rows[-1].note = f"notmuch indexed {indexed:,} of {messages:,} messages"

    # Calendars, call logs, boards: what an assistant brings along; no notmuch counterpart.
    for key, label, count_of in (
        ("calendar", "calendars (events)", lambda p: p["calendar_counts"]["events"]),
        ("call_log", "call logs (calls)", lambda p: p["calls"]),
        ("board", "boards (tasks)", lambda p: p["tasks"]),
    ):
        elapsed = 0.0
        items = 0
        for p in principals:
            elapsed += _timed_import(ctx, workspace, ctx.root / p[key], p["name"], count_of(p))
            items += count_of(p)
        rows.append(Row(SECTION, f"import {label}", round(items / elapsed), "items/s",
                        note=f"{items:,} in {elapsed:.1f} s, {len(principals)} whole commands"))

    maildir_bytes = sum(dir_size(ctx.root / p["maildir"]) for p in principals)
    workspace_bytes = dir_size(workspace)
    notmuch_bytes = dir_size(mail_root / ".notmuch") if with_notmuch else None
    mb = 2**20
    rows.append(Row(SECTION, "workspace on disk (MB)", round(workspace_bytes / mb), "MB", "",
                    round(notmuch_bytes / mb) if notmuch_bytes else None,
                    note=f"maildirs {maildir_bytes / mb:,.0f} MB; the workspace keeps each message's source"
                         " (compressed), notmuch indexes the files where they are"))
    rows.append(Row(SECTION, "on disk vs the maildirs", round(workspace_bytes / maildir_bytes, 2), "×", "",
                    round(notmuch_bytes / maildir_bytes, 2) if notmuch_bytes else None))

    state = {"workspace": str(workspace), "manifest_messages": messages,
             "notmuch_db": str(mail_root) if with_notmuch else "", "notmuch_config": str(config) if with_notmuch else "",
             "notmuch_folders": folders}
    (base / "complete.json").write_text(json.dumps(state, indent=1), encoding="utf-8")
    _attach(ctx, state)
    return rows
