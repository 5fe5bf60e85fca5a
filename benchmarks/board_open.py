"""How long a board of 2,000 cards takes to open and scroll (offscreen).

    .venv/bin/python benchmarks/board_open.py [--cards 2000] [--json FILE]

Prints: the worker's load (SQL + filters), the time from asking the Board tab for a principal to the cards being in
the column models, and the longest frame while scrolling every column from top to bottom.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def build(workspace: Path, count: int) -> int:
    from assistant.board import service as board
    from assistant.domain import Principal
    from assistant.store import Store
    from assistant.store import board as board_store
    from assistant.store.board import Card, ChecklistItem

    store = Store(workspace)
    try:
        p = store.add_principal(Principal(name="Big Board", timezone="Europe/Berlin", addresses=["big@example.com"]))
        other = store.add_principal(Principal(name="Other", timezone="Asia/Tokyo", addresses=["o@example.com"]))
        rng = random.Random(8)
        columns = board.ensure_board(store, p.id)
        scope = store.scope(p.id)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        with store.transaction():
            for i in range(count):
                column = columns[rng.randrange(len(columns) - 1)]  # keep Done small: done cards would be archived
                board_store.add_card(scope, Card(
                    principal_id=p.id, title=f"Card {i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8))),
                    column_id=column.id, notes="\n".join(rng.choice(WORDS) for _ in range(20)),
                    due_utc=start + timedelta(hours=rng.randint(0, 24 * 200)) if rng.random() < 0.6 else None,
                    priority=rng.randint(0, 3), labels=rng.sample(LABELS, rng.randint(0, 3)),
                    checklist=[ChecklistItem(f"step {k}", rng.random() < 0.5) for k in range(rng.randint(0, 4))],
                    estimate_min=rng.choice([None, 15, 30, 60])))
            for i in range(200):
                board.make_task(store, other.id, f"Other principal's card {i}")
        return p.id
    finally:
        store.close()


WORDS = ("invoice contract renew call book flight hotel review sign board quarterly visa dentist tax payroll "
         "Zürich 東京 Lagos agenda minutes draft follow-up").split()
LABELS = ["client", "court", "finance", "travel", "home", "urgent", "routine"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from assistant.board import service as board
    from assistant.store import Store
    from assistant.ui.board.view import BoardView, load_board
    from assistant.ui.workers import TaskManager

    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        principal_id = build(workspace, args.cards)

        store = Store(workspace)
        t0 = time.perf_counter()
        snapshot = load_board(store, principal_id, board.CardFilter())
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_board(store, principal_id, board.CardFilter(text="invoice", label="urgent"))
        filtered_s = time.perf_counter() - t0
        store.close()
        assert len(snapshot.cards) == args.cards, len(snapshot.cards)

        app = QApplication.instance() or QApplication(sys.argv)
        tasks = TaskManager(workspace)
        view = BoardView(tasks)
        view.resize(1400, 900)
        view.show()
        app.processEvents()
        loaded = []
        view.loaded.connect(lambda: loaded.append(time.perf_counter()))
        t0 = time.perf_counter()
        view.set_principal(snapshot.principal)
        while not loaded:
            app.processEvents()
        app.processEvents()
        open_s = time.perf_counter() - t0
        shown = sum(w.model.rowCount() for w in view.column_widgets)
        assert shown == args.cards, shown

        worst = 0.0
        steps = 0
        for widget in view.column_widgets:
            bar = widget.view.verticalScrollBar()
            for value in range(0, bar.maximum() + 1, max(1, widget.view.viewport().height() // 2)):
                t = time.perf_counter()
                bar.setValue(value)
                widget.view.viewport().repaint()
                app.processEvents()
                worst = max(worst, time.perf_counter() - t)
                steps += 1
        tasks.shutdown()
        view.close()

    result = {"cards": args.cards, "worker_load_ms": round(load_s * 1000, 1),
              "filtered_load_ms": round(filtered_s * 1000, 1), "open_to_cards_shown_ms": round(open_s * 1000, 1),
              "scroll_steps": steps, "longest_scroll_frame_ms": round(worst * 1000, 1)}
    for key, value in result.items():
        print(f"{key:>26}: {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
