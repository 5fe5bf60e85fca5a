"""The benchmarks at a real assistant's scale, side by side with notmuch: one table, also written as JSON.

    .venv/bin/python benchmarks/run.py [--small] [--json FILE] [--only SECTIONS]

Builds the workload when it is missing (``benchmarks/generate.py``), imports it (section 1 must run first: it builds the
workspace and notmuch's database the others read; with ``--only`` and no ``import``, the last complete import is
reused), then runs the sections (section 6 straight after section 1, while notmuch's build ends beside it; the
table lists the rows by section number). A section that is missing or fails gets one line and a row saying why; the
others go on. Without notmuch only the comparison columns are left empty. Nothing is installed.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import generate  # noqa: E402
from benchmarks.common import Context, Row  # noqa: E402


@dataclass(frozen=True)
class Section:
    """One step of the run: ``module.entry(ctx)`` gives its rows. ``beside_background``: it times nothing that work an
    earlier section left running could change (the connectors' figures are request counts and a quota-bound rate, on
    the core notmuch leaves free), so it may run before that work is waited for; every other section waits first."""

    name: str  # for --only
    label: str
    module: str
    entry: str = "run"
    beside_background: bool = False


# In the order they run. Section 6 comes straight after section 1, while notmuch's build of the untimed principals
# ends beside it; the table lists the rows by section number whatever the order they ran in.
SECTIONS = (
    Section("import", "1. Import", "benchmarks.import_bench"),
    Section("misc", "6. Connectors", "benchmarks.misc_bench", "run_connectors", beside_background=True),
    Section("search", "2. Search", "benchmarks.search_bench"),
    Section("ui", "3. Open / 4. Responsiveness", "benchmarks.ui_bench"),
    Section("misc", "5. Reminders", "benchmarks.misc_bench", "run_reminders"),
    Section("interactions", "7. Interactions", "benchmarks.interactions_bench"),
    Section("encryption", "8. Encryption", "benchmarks.encryption"),
    Section("imap", "9. IMAP", "benchmarks.imap"),
)
SECTION_NAMES = tuple(dict.fromkeys(s.name for s in SECTIONS))


@dataclass
class Step:
    """One step of the run and what it took: wall-clock seconds, the CPU seconds of this process and of the children it
    waited for (``assistant import`` with its parsing workers, notmuch, the probes), and the load average (1 min)
    before and after — on a shared machine the load says how much of the wall time was someone else's."""

    name: str
    label: str
    wall_s: float = 0.0
    cpu_s: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0
    status: str = "done"  # done, failed, missing


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


class timed_step:  # noqa: N801 - used as a context manager, reads as a phrase
    """``with timed_step(steps, name, label) as step:`` appends ``step`` with its figures once the block ends."""

    def __init__(self, steps: list[Step], name: str, label: str):
        self.steps = steps
        self.step = Step(name, label)

    def __enter__(self) -> Step:
        self._wall, self._cpu = time.perf_counter(), _cpu_seconds()
        self.step.load_before = _load()
        return self.step

    def __exit__(self, *exc_info: object) -> None:
        self.step.wall_s = time.perf_counter() - self._wall
        self.step.cpu_s = _cpu_seconds() - self._cpu
        self.step.load_after = _load()
        if exc_info[0] is not None:
            self.step.status = "failed"
        self.steps.append(self.step)


def format_steps(steps: list[Step]) -> str:
    """One line per step: where the run's time went."""
    total = sum(s.wall_s for s in steps)
    lines = ["time per step (wall clock; CPU of this process and its children; 1-min load average before → after):"]
    width = max((len(s.label) for s in steps), default=0)
    for s in steps:
        share = f"{s.wall_s / total * 100:3.0f} %" if total else ""
        lines.append(f"  {s.label.ljust(width)}  {s.wall_s:6.0f} s  {share}  CPU {s.cpu_s:6.0f} s"
                     f" ({s.cpu_s / s.wall_s if s.wall_s else 0:.1f} cores)  load {s.load_before:.1f} → {s.load_after:.1f}"
                     + ("" if s.status == "done" else f"  ({s.status})"))
    lines.append(f"  {'total'.ljust(width)}  {total:6.0f} s = {total / 60:.1f} min")
    return "\n".join(lines)


def build_context(small: bool, manifest: dict, root: Path) -> Context:
    ctx = Context(root=root, small=small, manifest=manifest)
    for p in manifest["principals"]:
        ctx.maildirs[p["name"]] = root / p["maildir"]
        ctx.calendars[p["name"]] = root / p["calendar"]
        ctx.call_logs[p["name"]] = root / p["call_log"]
        ctx.boards[p["name"]] = root / p["board"]
    return ctx


def notmuch_version() -> str:
    if shutil.which("notmuch") is None:
        return ""
    try:
        return subprocess.run(["notmuch", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "notmuch (version unknown)"


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if float(value).is_integer() and (isinstance(value, int) or abs(value) < 1000):  # counts: "18 of 18", "2 requests"
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(rows: list[Row]) -> str:
    headers = ["section", "figure", "assistant", "notmuch", "ratio", "target", "met"]
    lines = []
    for r in rows:
        unit = f" {r.unit}" if r.unit else ""
        lines.append([
            r.section, r.figure + (f" — {r.note}" if r.note and r.assistant is None else ""),
            (_number(r.assistant) + unit) if r.assistant is not None else "—",
            (_number(r.notmuch) + unit) if r.notmuch is not None else "—",
            f"{r.ratio:.2f}×" if r.ratio is not None else "—",
            r.target or "",
            "✓" if r.met else "✗" if r.met is False else "",
        ])
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(headers)]
    out = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip(),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines]
    notes = [f"  {r.section} {r.figure}: {r.note}" for r in rows if r.note and r.assistant is not None]
    if notes:
        out += ["", "notes:"] + notes
    return "\n".join(out)


def section_number(label: str) -> int:
    """``"6. Connectors"`` → 6: the table's order (rows of a section that ran earlier than its number still come in
    the place its number gives)."""
    head = label.split(".", 1)[0]
    return int(head) if head.isdigit() else 99


def settle(ctx: Context, steps: list[Step]) -> list[Row]:
    """Wait for what earlier sections left running (section 1's notmuch build), as a step of its own; a failure there
    is a row, like a section's."""
    if not ctx.pending:
        return []
    label = "1. Import (notmuch's build, the rest)"
    print(f"{label} …", file=sys.stderr, flush=True)
    with timed_step(steps, "import-background", label) as step:
        try:
            ctx.settle()
        except Exception as exc:  # noqa: BLE001 - as a failed section: the others go on
            ctx.pending.clear()
            line = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
            print(f"{label}: failed: {line}", file=sys.stderr)
            step.status = "failed"
            return [Row("1. Import", "(section failed)", None, "", note=line)]
    print(f"{label}: {step.wall_s:.0f} s more", file=sys.stderr, flush=True)
    return []


def run_sections(ctx: Context, only: set[str] | None, steps: list[Step] | None = None) -> list[Row]:
    rows: list[Row] = []
    ctx.sections = {s.name for s in SECTIONS if only is None or s.name in only}
    ctx.background_ok = True
    steps = steps if steps is not None else []
    for section in SECTIONS:
        name, label, module_name = section.name, section.label, section.module
        if only is not None and name not in only:
            if name == "import":
                from benchmarks import import_bench

                if not import_bench.reuse(ctx):
                    print("No complete import to reuse: run with the import section first.", file=sys.stderr)
            continue
        if not section.beside_background:
            rows += settle(ctx, steps)
        print(f"{label} …", file=sys.stderr, flush=True)
        with timed_step(steps, name, label) as step:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                print(f"{label}: {module_name} is not there yet; skipped", file=sys.stderr)
                rows.append(Row(label, "(section not run)", None, "", note=f"{module_name} does not exist yet"))
                step.status = "missing"
                continue
            try:
                section_rows = list(getattr(module, section.entry)(ctx))
            except Exception as exc:  # noqa: BLE001 - one broken section must not cost the others
                line = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:300]
                print(f"{label}: failed: {line}", file=sys.stderr)
                if os.environ.get("BENCH_DEBUG"):
                    traceback.print_exc()
                rows.append(Row(label, "(section failed)", None, "", note=line))
                step.status = "failed"
                continue
            rows.extend(section_rows)
            ctx.rows.extend(section_rows)  # a later section may restate an earlier figure against its own target
        print(f"{label}: {step.wall_s:.0f} s (CPU {step.cpu_s:.0f} s, load {step.load_before:.1f} → "
              f"{step.load_after:.1f})", file=sys.stderr, flush=True)
    rows += settle(ctx, steps)
    return sorted(rows, key=lambda r: section_number(r.section))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks beside notmuch; one table, also as JSON.")
    parser.add_argument("--small", action="store_true", help="3 principals × 1,000 messages instead of 10 × 10,000")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows and machine info here")
    parser.add_argument("--only", metavar="SECTIONS",
                        help="comma-separated: " + ",".join(SECTION_NAMES))
    args = parser.parse_args(argv)
    only = None
    if args.only:
        only = {part.strip() for part in args.only.split(",") if part.strip()}
        unknown = only - set(SECTION_NAMES)
        if unknown:
            parser.error(f"unknown section(s) {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    steps: list[Step] = []
    root = generate.workload_dir(args.small)
    with timed_step(steps, "workload", "0. Workload"):
        if generate.load_manifest(root) is None:
            print(f"Building the workload in {root} (once) …", file=sys.stderr, flush=True)
        manifest = generate.generate(args.small)
    ctx = build_context(args.small, manifest, root)
    version = notmuch_version()
    if not version:
        print("notmuch is not installed: the comparison columns stay empty (sudo apt-get install notmuch).",
              file=sys.stderr)

    rows = run_sections(ctx, only, steps)
    elapsed = time.perf_counter() - started
    print()
    print(f"Benchmarks ({'small' if args.small else 'default'} workload: {manifest['total_messages']:,} messages, "
          f"{len(manifest['principals'])} principals; {os.cpu_count()} CPUs; {version or 'no notmuch'}; "
          f"{elapsed / 60:.1f} min)")
    print(format_table(rows))
    print()
    print(format_steps(steps))
    if args.json:
        data = {
            "machine": {
                "cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                "notmuch": version or None, "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "size": "small" if args.small else "default", "messages": manifest["total_messages"],
                "principals": len(manifest["principals"]), "elapsed_s": round(elapsed, 1),
            },
            "rows": [r.as_dict() for r in rows],
            "steps": [{k: round(v, 1) if isinstance(v, float) else v for k, v in asdict(s).items()} for s in steps],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nWritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
