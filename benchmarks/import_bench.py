"""1. Import: ``assistant import`` of the maildirs beside ``notmuch new`` on the same maildirs, interleaved.

Every principal is added first (store API, not timed). For each of the first ``TIMED_PRINCIPALS``: time ``assistant
import <maildir>`` as a whole command, and ``notmuch new`` after linking that maildir into notmuch's mail root (so each
notmuch run indexes exactly that principal's messages, as each import does). Which of the two goes first alternates, so
neither always meets a warm page cache. Figures: the median of the per-principal rates, and the ratio. The other
principals are then built with both tools running side by side (not compared: the whole run must fit 15 minutes), and
calendars, call logs and boards are imported (timed, no comparison); last, the sizes on disk. When section 8 will run
in the same run, its encrypted imports of the first maildirs are taken here, each next to the plain import of the same
maildir (``encryption.SideBySide``), and principals are added as they are imported so that the workspace can be copied
as section 8's plain one once it holds just the first ones.

Leaves ``ctx.workspace`` (everything imported) and ``ctx.notmuch_db``/``ctx.notmuch_config`` (one notmuch database
over all maildirs; ``ctx.notmuch_folders[name]`` is the principal's folder in it, so ``path:<folder>/**`` limits a
query to them). ``reuse(ctx)`` finds those from the last complete run, for running later sections alone.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.common import Context, Row, dir_size, median

SECTION = "1. Import"
# Principals timed one against the other; the rest are built with both tools side by side (the run must fit 15 minutes).
TIMED_PRINCIPALS = 3
# While the untimed principals are built, notmuch's single-threaded `notmuch new` is the longer of the two (455 s
# against our 279 s for 70,000 messages in the run of 2026-12-08): our import runs at this niceness beside it, so
# notmuch keeps a core of its own and ours takes what is left, and the two end nearer together.
UNTIMED_NICENESS = 10


def run_dir(ctx: Context) -> Path:
    """Where the workspace and notmuch's database are built; ``BENCH_RUN_DIR`` puts a run beside another one in use."""
    return Path(os.environ["BENCH_RUN_DIR"]) if os.environ.get("BENCH_RUN_DIR") else ctx.root / "run"


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


def _assistant(ctx: Context, workspace: Path, *args: str, niceness: int = 0) -> dict:
    command = [ctx.python, "-m", "assistant", "--workspace", str(workspace), "--json", *args]
    if niceness and shutil.which("nice"):
        command = ["nice", "-n", str(niceness), *command]  # its parsing workers inherit it
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"assistant {' '.join(args[:2])} failed: {result.stderr.strip()[:300]}")
    return json.loads(result.stdout)


def _timed_import(ctx: Context, workspace: Path, path: Path, principal: str, expected: int,
                  niceness: int = 0) -> float:
    start = time.perf_counter()
    report = _assistant(ctx, workspace, "import", str(path), "--principal", principal, niceness=niceness)
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
    manifest = _manifest(ctx)
    if state.get("workload") != _workload_key(manifest):
        return False  # built from another workload
    _attach(ctx, state)
    return True


def _workload_key(manifest: dict) -> list:
    return [manifest.get("generator_version"), manifest.get("total_messages"), manifest.get("total_mail_bytes")]


def _attach(ctx: Context, state: dict) -> None:
    ctx.workspace = Path(state["workspace"])
    if state.get("notmuch_config") and ctx.has_notmuch:
        ctx.notmuch_db = Path(state["notmuch_db"])
        ctx.notmuch_config = Path(state["notmuch_config"])
        ctx.notmuch_folders = dict(state.get("notmuch_folders", {}))


def _add_principals(workspace: Path, principals: list[dict]) -> None:
    from assistant.core import timezones
    from assistant.domain import Principal
    from assistant.store import Store

    timezones.configure()
    store = Store(workspace)
    try:
        for p in principals:
            store.add_principal(Principal(name=p["name"], timezone=p["timezone"], addresses=list(p["addresses"]),
                                          region=p["region"]))
    finally:
        store.close()


def _import_in_process(workspace: Path, principals: list[dict], root: Path, key: str) -> tuple[int, float]:
    """Everything of one kind (calendars, call logs, boards) through ``import_path``, as ``assistant import`` does."""
    from assistant.importing.path import import_path
    from assistant.store import Store

    store = Store(workspace)
    items = 0
    try:
        start = time.perf_counter()
        for p in principals:
            report = import_path(store, store.principal_by_name(p["name"]).id, root / p[key])
            if report.rejected:
                raise RuntimeError(f"import of {p[key]}: {len(report.rejected)} rejected, e.g. {report.rejected[0]}")
            items += report.imported
        return items, time.perf_counter() - start
    finally:
        store.close()


def _encrypted_side_by_side(ctx: Context, principals: list[dict]):  # -> encryption.SideBySide | None
    """Section 8's encrypted imports, taken here in turn with the same plain imports (see ``SideBySide``), when that
    section runs too and can use a Secret Service of its own; else None and section 8 imports everything itself."""
    from benchmarks import encryption

    if "encryption" not in ctx.sections or not encryption.SideBySide.possible():
        return None
    assert encryption.PRINCIPALS <= TIMED_PRINCIPALS
    try:
        return encryption.SideBySide(ctx, principals)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"    section 8 imports its own workspaces: {exc}", file=sys.stderr, flush=True)
        return None


def _encrypted_import(side, p: dict):  # (encryption.SideBySide, principal) -> the same, or None once it failed
    try:
        elapsed = side.import_principal(p)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        print(f"    section 8 imports its own workspaces: {exc}", file=sys.stderr, flush=True)
        return None
    print(f"    {p['name']}: encrypted {p['messages'] / elapsed:,.0f}/s (for section 8)", file=sys.stderr, flush=True)
    return side


def _stamp_end(process: subprocess.Popen, ended: list[float]) -> None:
    """In a thread of its own: append the moment ``process`` ends."""
    process.wait()
    ended.append(time.perf_counter())


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

    principals = manifest["principals"]
    timed, rest = principals[:TIMED_PRINCIPALS], principals[TIMED_PRINCIPALS:]
    side = _encrypted_side_by_side(ctx, principals)
    plain_seconds = 0.0

    def link(p: dict) -> None:
        (mail_root / p["slug"]).symlink_to((ctx.root / p["maildir"]).resolve(), target_is_directory=True)

    rates_a: list[float] = []
    rates_b: list[float] = []
    total_a = total_b = 0.0
    timed_started = time.perf_counter()
    for index, p in enumerate(timed):
        maildir = ctx.root / p["maildir"]

        def step_a() -> float:
            return _timed_import(ctx, workspace, maildir, p["name"], p["messages"])

        def step_b() -> float:
            link(p)
            return _timed_notmuch_new(config)

        # Principals are added as they are imported, so that after the first few the workspace holds just them
        # (section 8 keeps a copy of it then).
        _add_principals(workspace, [p])
        # Each maildir is read first by one of the two compared tools, in turn; the encrypted import (section 8's)
        # comes after the plain one, then before it.
        encrypted = side is not None and side.wants(p)
        notmuch_first = with_notmuch and index % 2 == 1
        time_b = step_b() if notmuch_first else 0.0
        if encrypted and index % 2 == 1:
            side = _encrypted_import(side, p)
        time_a = step_a()
        if with_notmuch and not notmuch_first:
            time_b = step_b()
        if encrypted and index % 2 == 0:
            side = _encrypted_import(side, p)
        if encrypted:
            plain_seconds += time_a
        if side is not None and encrypted and not any(side.wants(q) for q in principals):
            try:
                side.keep_plain(workspace)
            except OSError as exc:
                print(f"    section 8 imports its own workspaces: {exc}", file=sys.stderr, flush=True)
                side = None
        rates_a.append(p["messages"] / time_a)
        total_a += time_a
        if with_notmuch:
            rates_b.append(p["messages"] / time_b)
            total_b += time_b
        print(f"    {p['name']}: assistant {p['messages'] / time_a:,.0f}/s"
              + (f", notmuch {p['messages'] / time_b:,.0f}/s" if with_notmuch else ""), file=sys.stderr, flush=True)

    print(f"    the {len(timed)} timed maildirs: {time.perf_counter() - timed_started:.0f} s", file=sys.stderr,
          flush=True)
    if side is not None:
        state = side.state(plain_seconds)
        if state:
            ctx.prepared["encryption"] = state
    # The rest is only built (both side by side, to save time), for the sections after this one. notmuch starts
    # first and keeps a core of its own (ours is niced); when the run allows it (``ctx.background_ok``), this section
    # returns once our side is done and notmuch finishes beside the sections that time nothing it could disturb
    # (run.py waits for it, ``ctx.settle()``, before any other).
    rest_started = time.perf_counter()
    indexer: subprocess.Popen | None = None
    notmuch_ended: list[float] = []
    ours_done = 0.0
    if rest:
        _add_principals(workspace, rest)
        if with_notmuch:
            for p in rest:
                link(p)
            # Its messages go to a file: nobody reads a pipe while the later sections run, and a full one would stop it.
            with open(base / "notmuch-new.err", "wb") as errors_file:
                indexer = subprocess.Popen(["notmuch", "new", "--quiet"], env=notmuch_env(config),
                                           stdout=subprocess.DEVNULL, stderr=errors_file)
            # The moment it ends is what the note says, not when the run next looks at it.
            threading.Thread(target=_stamp_end, args=(indexer, notmuch_ended), name="notmuch-new-end",
                             daemon=True).start()
        try:
            for p in rest:
                _timed_import(ctx, workspace, ctx.root / p["maildir"], p["name"], p["messages"],
                              niceness=UNTIMED_NICENESS if indexer is not None else 0)
        except BaseException:
            if indexer is not None:
                indexer.kill()
                indexer.wait()
            raise
        ours_done = time.perf_counter() - rest_started
        print(f"    the other {len(rest)} principals: assistant import done after {ours_done:.0f} s"
              + (" (notmuch new goes on)" if indexer is not None and indexer.poll() is None else ""),
              file=sys.stderr, flush=True)

    messages = manifest["total_messages"]
    timed_messages = sum(p["messages"] for p in timed)
    rows: list[Row] = []
    rate_a = median(rates_a)
    rate_b = median(rates_b) if with_notmuch else None
    # The ratio is the median of each maildir's own ratio (both tools on the same messages, one after the other).
    ratio = median([a / b for a, b in zip(rates_a, rates_b, strict=False)]) if with_notmuch else None
    rows.append(Row(SECTION, f"import rate, median of {len(timed)} maildirs", round(rate_a), "msg/s",
                    "≥ 1.0×", round(rate_b) if rate_b else None, ratio, None if ratio is None else ratio >= 1.0,
                    note=f"{timed_messages:,} messages timed as whole commands"
                         + (f", interleaved (ratio: median of the per-maildir ratios "
                            f"{', '.join(f'{a / b:.2f}' for a, b in zip(rates_a, rates_b, strict=False))})" if with_notmuch else "")
                         + f"; {messages:,} messages in all ({manifest['total_mail_bytes'] / 2**30:.1f} GB)"))
    time_row = Row(SECTION, f"import time, {len(timed)} maildirs", round(total_a, 1), "s", "",
                   round(total_b, 1) if with_notmuch else None, (total_b / total_a) if with_notmuch else None,
                   note=f"the other {len(rest)} built side by side (assistant import done after {ours_done:.0f} s)"
                   if rest else "")
    rows.append(time_row)

    # Calendars, call logs, boards: what an assistant brings along; no notmuch counterpart. In-process, one thread:
    # beside notmuch's build it has the other core.
    others_started = time.perf_counter()
    for key, label in (("calendar", "calendars (events)"), ("call_log", "call logs (calls)"), ("board", "boards (tasks)")):
        items, elapsed = _import_in_process(workspace, principals, ctx.root, key)
        rows.append(Row(SECTION, f"import {label}", round(items / elapsed), "items/s",
                        note=f"{items:,} in {elapsed:.1f} s (in-process, {len(principals)} files)"))

    maildir_bytes = sum(dir_size(ctx.root / p["maildir"]) for p in principals)
    workspace_bytes = dir_size(workspace)
    mb = 2**20
    size_row = Row(SECTION, "size on disk", round(workspace_bytes / mb), "MB", "",
                   note=f"maildirs {maildir_bytes / mb:,.0f} MB; the workspace keeps each message's source"
                        " (compressed), notmuch indexes the files where they are")
    ratio_row = Row(SECTION, "size on disk vs the maildirs", round(workspace_bytes / maildir_bytes, 2), "×", "")
    rows += [size_row, ratio_row]
    print(f"    calendars, call logs, boards and our size on disk: {time.perf_counter() - others_started:.0f} s",
          file=sys.stderr, flush=True)
    ctx.workspace = workspace  # complete: the sections that read only it may start

    def finish() -> None:
        """Wait for notmuch's build, check it, fill in its columns and mark the import complete."""
        rest_elapsed = time.perf_counter() - rest_started
        if indexer is not None:
            indexer.wait()
            while not notmuch_ended:  # the watching thread stamps it just after the process ends
                time.sleep(0.01)
            rest_elapsed = notmuch_ended[0] - rest_started
            if indexer.returncode != 0:
                errors = (base / "notmuch-new.err").read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"notmuch new failed: {errors.strip()[:300]}")
        if rest:
            # Which of the two ends first says where this step's time goes: the one that ends last is the critical
            # path (notmuch's ending counts from its start, whatever ran beside it after our import).
            time_row.note = (f"the other {len(rest)} built side by side (assistant import done after {ours_done:.0f} s"
                             + (f", notmuch new after {rest_elapsed:.0f} s" if with_notmuch else "") + ")")
            print(f"    the other {len(rest)} principals built side by side: assistant import done after"
                  f" {ours_done:.0f} s" + (f", notmuch new after {rest_elapsed:.0f} s" if with_notmuch else ""),
                  file=sys.stderr, flush=True)
        if with_notmuch:
            indexed = notmuch_count(config, "*")
            if indexed != messages:
                time_row.note = (time_row.note + "; " if time_row.note else "") + \
                    f"notmuch indexed {indexed:,} of {messages:,} messages"
            notmuch_bytes = dir_size(mail_root / ".notmuch")
            size_row.notmuch = round(notmuch_bytes / mb)
            ratio_row.notmuch = round(notmuch_bytes / maildir_bytes, 2)

        folders = {p["name"]: p["slug"] for p in principals} if with_notmuch else {}
        state = {"workspace": str(workspace), "workload": _workload_key(manifest),
                 "notmuch_db": str(mail_root) if with_notmuch else "",
                 "notmuch_config": str(config) if with_notmuch else "", "notmuch_folders": folders}
        (base / "complete.json").write_text(json.dumps(state, indent=1), encoding="utf-8")
        _attach(ctx, state)

    if ctx.background_ok and indexer is not None and indexer.poll() is None:
        ctx.pending.append(finish)
    else:
        finish()
    return rows
