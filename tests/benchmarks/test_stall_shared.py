"""Section 4's stall rows come from section 7's sync-and-import run when both sections run (one sync fewer pair in the
15-minute budget), and from section 4's own syncs otherwise."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import interactions_bench, ui_bench
from benchmarks.common import Context


def _maildir(root: Path, name: str, count: int) -> Path:
    d = root / name
    for sub in ("cur", "new", "tmp"):
        (d / sub).mkdir(parents=True)
    for i in range(count):
        (d / "cur" / f"{i}.eml:2,").write_bytes(b"Subject: x\r\n\r\nbody\r\n")
    return d


PROBE_ANSWER = {"gaps_ms": [5.0, 5.2, 23.5, 5.1], "idle_gaps_ms": [5.0, 5.3], "sync_errors": [], "sync_s": 20.0,
                "added": 3, "import_done_after_s": 4.0}


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The probe runs asked for, each answered with PROBE_ANSWER."""
    asked: list[list[str]] = []

    def probe(python, args, timeout_s):
        asked.append(args)
        return 0.0, PROBE_ANSWER

    monkeypatch.setattr(ui_bench, "run_probe", probe)
    return asked


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Context:
    ctx = Context(root=tmp_path, small=True, workspace=tmp_path / "ws")
    ctx.maildirs = {"A": _maildir(tmp_path, "a", 3), "B": _maildir(tmp_path, "b", 2)}
    monkeypatch.setattr(ui_bench, "make_sync_workspace", lambda workspace, maildir: 1)
    monkeypatch.setattr(ui_bench, "open_rows", lambda python, workspace, launches: [])
    return ctx


def test_with_section_7_in_the_run_section_4_makes_no_sync_and_takes_section_7s_gap(ctx, probes):
    ctx.sections = {"ui", "interactions"}
    assert ui_bench.run(ctx) == []
    assert probes == []  # no sync of section 4's own
    rows = interactions_bench.stall_rows(ctx)
    assert len(probes) == 1 and "--import" in probes[0]
    section_4 = [r for r in rows if r.section == ui_bench.RESPONSIVENESS]
    assert [r.assistant for r in section_4] == [23.5, pytest.approx(23.5, abs=20)]
    assert section_4[0].met is True and "import beside the sync" in section_4[0].note
    assert [r.assistant for r in rows if r.section == interactions_bench.SECTION] == [23.5]


def test_without_section_7_section_4_syncs_on_its_own(ctx, probes):
    ctx.sections = {"ui"}
    rows = ui_bench.run(ctx)
    assert len(probes) == 3 and all("--import" not in p for p in probes)  # three syncs at the small size
    assert rows[0].section == ui_bench.RESPONSIVENESS and rows[0].assistant == 23.5
    ctx.sections = {"interactions"}
    assert all(r.section == interactions_bench.SECTION for r in interactions_bench.stall_rows(ctx))
