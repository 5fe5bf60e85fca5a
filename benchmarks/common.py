"""What every benchmark section shares: the workload's layout, one row of the result table, interleaved timing.

``benchmarks/run.py`` builds a :class:`Context` (generating the workload when missing, importing it once) and hands it to
each section's ``run(ctx) -> list[Row]``; the sections never print the table themselves.
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DEFAULT_DIR = ROOT / "benchmarks" / "workload"  # ignored by git


@dataclass
class Context:
    """The workload on disk and what the run has built from it so far."""

    root: Path  # benchmarks/workload/<default or small>/
    small: bool
    maildirs: dict[str, Path] = field(default_factory=dict)  # principal name -> maildir (cur/new/tmp)
    calendars: dict[str, Path] = field(default_factory=dict)  # principal name -> .ics
    call_logs: dict[str, Path] = field(default_factory=dict)  # principal name -> call-log export
    boards: dict[str, Path] = field(default_factory=dict)  # principal name -> board CSV
    workspace: Path | None = None  # the assistant workspace once everything is imported
    notmuch_db: Path | None = None  # notmuch's database root (its config file inside), None without notmuch
    notmuch_config: Path | None = None
    # principal name -> their folder under notmuch's root: ``path:<folder>/**`` limits a notmuch query to that principal
    notmuch_folders: dict[str, str] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)  # the workload's manifest.json (see benchmarks/generate.py)
    rows: list[Row] = field(default_factory=list)  # the rows of the sections run so far
    sections: set[str] = field(default_factory=set)  # the names of the sections this run will run (run.py's --only)
    # What one section built for a later one in the same run (e.g. section 1's encrypted imports for section 8)
    prepared: dict[str, object] = field(default_factory=dict)
    # Whether a section may leave work running when it returns (run.py: yes, and it calls ``settle`` before any
    # section that must not run beside it); when False, each section finishes its own work before returning.
    background_ok: bool = False
    # What a section left running, each a callable that waits for it and completes that section's rows
    # (section 1: notmuch's build of the untimed principals)
    pending: list[Callable[[], None]] = field(default_factory=list)

    @property
    def python(self) -> str:
        return sys.executable

    @property
    def has_notmuch(self) -> bool:
        return shutil.which("notmuch") is not None

    def settle(self) -> None:
        """Wait for whatever earlier sections left running (in the order they left it)."""
        while self.pending:
            self.pending.pop(0)()


@dataclass
class Row:
    """One line of the table. Times in the unit named; ``notmuch`` only where a comparison was made."""

    section: str  # "1. Import", "2. Search", …
    figure: str
    assistant: float | None
    unit: str
    target: str = ""  # as the issue states it: "≤ 20 ms", "≥ 1.0×"
    notmuch: float | None = None
    ratio: float | None = None  # assistant vs notmuch, as the target reads (higher is better for rates)
    met: bool | None = None  # None: no target, or not measurable here
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def interleaved(a: Callable[[], object], b: Callable[[], object], rounds: int) -> tuple[list[float], list[float]]:
    """Run A, B, A, B… ``rounds`` times each; the machines are shared and noisy, so compare medians of these."""
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(rounds):
        times_a.append(timed(a)[0])
        times_b.append(timed(b)[0])
    return times_a, times_b


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def peak_rss_mb_of_self() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


@contextmanager
def substep(label: str) -> Iterator[None]:
    """Print how long a part of a section took (``    label: 12 s``, on stderr), so a run's log shows where a
    section's time went."""
    start = time.perf_counter()
    try:
        yield
    finally:
        print(f"    {label}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
