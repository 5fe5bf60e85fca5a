"""run.py's schedule: a section marked to run beside background work runs before that work is waited for, every other
section after; a failure while waiting is a row and the run goes on; the table lists rows by section number."""
import sys
import types

from benchmarks import run as run_module
from benchmarks.common import Context, Row


def fake_sections(monkeypatch, events, fail_background=False):
    module = types.ModuleType("benchmarks.fake_sections")

    def first(ctx):
        events.append("1 ran")

        def finish():
            events.append("background waited for")
            if fail_background:
                raise RuntimeError("notmuch new failed: disk full")

        ctx.pending.append(finish)
        return [Row("1. Import", "first", 1.0, "s")]

    def beside(ctx):
        events.append("6 ran" + (" beside it" if ctx.pending else " after it"))
        return [Row("6. Connectors", "beside", 6.0, "requests")]

    def after(ctx):
        events.append("2 ran" + (" beside it" if ctx.pending else " after it"))
        return [Row("2. Search", "after", 2.0, "ms")]

    module.first, module.beside, module.after = first, beside, after
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(run_module, "SECTIONS", (
        run_module.Section("import", "1. Import", module.__name__, "first"),
        run_module.Section("misc", "6. Connectors", module.__name__, "beside", beside_background=True),
        run_module.Section("search", "2. Search", module.__name__, "after"),
    ))


def test_only_a_section_marked_so_runs_before_the_background_work_is_waited_for(tmp_path, monkeypatch):
    events = []
    fake_sections(monkeypatch, events)
    steps = []

    rows = run_module.run_sections(Context(root=tmp_path, small=True), None, steps)

    assert events == ["1 ran", "6 ran beside it", "background waited for", "2 ran after it"]
    assert [r.section for r in rows] == ["1. Import", "2. Search", "6. Connectors"]
    assert [s.name for s in steps] == ["import", "misc", "import-background", "search"]


def test_the_background_work_is_waited_for_before_the_run_ends_even_when_nothing_else_runs(tmp_path, monkeypatch):
    events = []
    fake_sections(monkeypatch, events)

    run_module.run_sections(Context(root=tmp_path, small=True), {"import"}, [])

    assert events == ["1 ran", "background waited for"]


def test_a_failure_while_waiting_is_a_row_and_the_later_sections_still_run(tmp_path, monkeypatch):
    events = []
    fake_sections(monkeypatch, events, fail_background=True)
    steps = []

    rows = run_module.run_sections(Context(root=tmp_path, small=True), None, steps)

    assert events[-1] == "2 ran after it"
    failed = [r for r in rows if r.figure == "(section failed)"]
    assert len(failed) == 1 and failed[0].section == "1. Import" and "disk full" in failed[0].note
    assert [s.status for s in steps if s.name == "import-background"] == ["failed"]
