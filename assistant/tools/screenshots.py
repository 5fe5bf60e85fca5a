"""Write a PNG of every main view: ``python -m assistant.tools.screenshots OUTDIR [--workspace W]``.

Without ``--workspace`` a fresh demo workspace is built in a temporary folder. Runs offscreen unless
``QT_QPA_PLATFORM`` says otherwise. Saved window settings are neither read nor changed.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

SIZE = (1280, 720)  # the smallest laptop screen the views are checked at


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "principal"


def settle(window, timeout_s: float = 60.0) -> None:
    """Let queued work finish and the results reach the widgets."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout_s
    quiet_rounds = 0
    while time.monotonic() < deadline and quiet_rounds < 5:
        QApplication.processEvents()
        if window.tasks.busy:
            quiet_rounds = 0
            time.sleep(0.01)
        else:
            quiet_rounds += 1
    QApplication.processEvents()


def shoot(window, path: Path) -> Path:
    settle(window)
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(path)
    return path


def calendar_shots(window, out_dir: Path, name: str) -> list[Path]:
    """Day and agenda views, the event dialog and the free-time finder of the principal shown."""
    from assistant.ui.calendar.view import CalendarMode

    calendar, written = window.calendar, []
    for mode in (CalendarMode.DAY, CalendarMode.AGENDA):
        calendar.set_mode(mode)
        written.append(shoot(window, out_dir / f"calendar-{mode.value}-{name}.png"))
    calendar.set_mode(CalendarMode.WEEK)
    settle(window)
    for open_dialog, file_name in ((calendar.open_new_event, "calendar-event-dialog.png"),
                                   (calendar.open_free_time, "calendar-free-time.png")):
        dialog = open_dialog()
        settle(window)
        dialog.grab().save(str(out_dir / file_name))
        written.append(out_dir / file_name)
        dialog.reject()
    return written


def compose_shots(window, out_dir: Path, name: str) -> list[Path]:
    """A reply to the thread being read, and the principal dialog; neither saves anything to the workspace."""
    written = []
    actions = window.inbox_actions
    before = len(actions.windows)
    actions.compose("reply")
    settle(window)
    if len(actions.windows) > before:
        compose = actions.windows[-1]
        compose._finished = True  # a screenshot is not typing worth keeping
        compose.grab().save(str(out_dir / f"compose-reply-{name}.png"))
        written.append(out_dir / f"compose-reply-{name}.png")
        from assistant.ui.mail.compose import SNIPPET_APPROVAL_ROLE

        policy = getattr(compose.principal.approval_policy, "value", compose.principal.approval_policy)
        # a snippet whose approval override differs from the principal's policy
        overriding = [i for i in range(1, compose.snippet_box.count())
                      if compose.snippet_box.itemData(i, SNIPPET_APPROVAL_ROLE) not in ("", None, policy)]
        if overriding:
            compose.snippet_box.activated.emit(overriding[0])
            settle(window)
            compose.grab().save(str(out_dir / f"compose-snippet-approval-{name}.png"))
            written.append(out_dir / f"compose-snippet-approval-{name}.png")
        compose.close()
    window.principal_actions.edit_principal_action.trigger()
    settle(window)
    dialog = window.principal_actions.dialog
    if dialog is not None:
        dialog.grab().save(str(out_dir / f"principal-dialog-{name}.png"))
        written.append(out_dir / f"principal-dialog-{name}.png")
        if dialog.snippet_list.count():  # the Snippets tab, the first one's text and approval override shown
            dialog.tabs.setCurrentIndex(dialog.tabs.indexOf(dialog.snippet_list.parentWidget()))
            dialog.snippet_list.setCurrentRow(0)
            settle(window)
            dialog.grab().save(str(out_dir / f"principal-dialog-snippets-{name}.png"))
            written.append(out_dir / f"principal-dialog-snippets-{name}.png")
        # the Reports tab, as an assistant fills it in (the dialog is cancelled: nothing is saved)
        dialog.tabs.setCurrentIndex(dialog.tabs.indexOf(dialog.report_greeting.parentWidget()))
        dialog.report_eod.setChecked(True)
        dialog.report_weekly.setChecked(True)
        settle(window)
        dialog.grab().save(str(out_dir / f"principal-dialog-reports-{name}.png"))
        written.append(out_dir / f"principal-dialog-reports-{name}.png")
        dialog.reject()
    return written


def approvals_shots(window, out_dir: Path) -> list[Path]:
    """The Approvals tab across principals: a rejected draft as it would be sent, with the principal's comment, and
    its history; the question "Approved in person" asks (answered No); Revise's compose window with the comment."""
    from assistant.domain import DraftState

    approvals, written = window.approvals, []
    window.views.setCurrentIndex(window.views.indexOf(approvals))
    approvals.all_principals.setChecked(True)
    settle(window)
    states = [row.state for row in approvals.model.rows]
    if DraftState.REJECTED in states:
        approvals.table.selectRow(states.index(DraftState.REJECTED))
        written.append(shoot(window, out_dir / "approvals-all-principals.png"))
        approvals.details_tabs.setCurrentWidget(approvals.history)
        written.append(shoot(window, out_dir / "approvals-history.png"))
        approvals.details_tabs.setCurrentWidget(approvals.preview)
        before = len(window.inbox_actions.windows)
        approvals.revise_button.click()
        settle(window)
        if len(window.inbox_actions.windows) > before:
            compose = window.inbox_actions.windows[-1]
            compose._finished = True  # a screenshot is not typing worth keeping
            compose.grab().save(str(out_dir / "compose-revise-comment.png"))
            written.append(out_dir / "compose-revise-comment.png")
            compose.close()
    if DraftState.AWAITING_APPROVAL in states:
        approvals.table.selectRow(states.index(DraftState.AWAITING_APPROVAL))
        written.append(shoot(window, out_dir / "approvals-awaiting.png"))
        approvals.approve_button.click()
        settle(window)
        box = approvals.confirm_box
        if box is not None:
            box.grab().save(str(out_dir / "approvals-confirm-in-person.png"))
            written.append(out_dir / "approvals-confirm-in-person.png")
            box.reject()  # answered No: nothing is recorded
            settle(window)
    return written


def outgoing_shots(window, out_dir: Path) -> list[Path]:
    """The Outgoing tab across principals, each section with its first row shown as it will be sent."""
    outgoing, written = window.outgoing, []
    window.views.setCurrentIndex(window.views.indexOf(outgoing))
    outgoing.all_principals.setChecked(True)
    settle(window)
    for section in ("drafts", "scheduled", "outbox", "changes"):
        outgoing.show_section(section)
        if section == "changes":
            if outgoing.changes_model.rowCount():
                outgoing.changes_table.selectRow(0)
        elif outgoing.model.rowCount():
            outgoing.table.selectRow(0)
        written.append(shoot(window, out_dir / f"outgoing-{section}.png"))
    return written


def all_principals_shots(window, out_dir: Path) -> list[Path]:
    """The sidebar's All principals: every principal's inbox in one list, each row tagged, a thread of the second
    principal listed open in the reader; then a search across them all; then every principal's calendar."""
    from assistant.ui.calendar.view import CalendarMode

    if window.principals.all_row < 0:
        return []
    written = []
    window.show_all_principals()
    settle(window)
    model = window.inbox.model
    first = model.thread_at(0)
    other = next((row for row in range(model.rowCount()) if (t := model.thread_at(row)) is not None
                  and first is not None and t.principal_id != first.principal_id), None)
    if other is not None:
        window.inbox.threads.select_row(other)
    written.append(shoot(window, out_dir / "inbox-all-principals.png"))
    window.search.setText("receipt")  # every principal of the demo has receipts
    window.on_search()
    settle(window)
    written.append(shoot(window, out_dir / "search-all-principals.png"))
    window.search.clear()
    settle(window)
    # every principal's week on one grid in your time, each event in its principal's colour and name
    window.views.setCurrentIndex(window.CALENDAR_TAB)
    window.calendar.set_mode(CalendarMode.WEEK)
    settle(window)
    written.append(shoot(window, out_dir / "calendar-all-principals.png"))
    window.calendar.set_mode(CalendarMode.AGENDA)
    settle(window)
    written.append(shoot(window, out_dir / "calendar-agenda-all-principals.png"))
    window.calendar.set_mode(CalendarMode.WEEK)
    window.views.setCurrentIndex(window.INBOX_TAB)
    settle(window)
    return written


def shoot_dialog(dialog, path: Path) -> Path:
    """A dialog is a window of its own: the main window's picture does not hold it."""
    if not dialog.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(path)
    return path


def desktop_shots(window, out_dir: Path) -> list[Path]:
    """File → Desktop integration… once it has read what is in place (it only reads; nothing is applied)."""
    from assistant.mail.mailto import parse_mailto
    from assistant.ui.crash import CrashDialog
    from assistant.ui.mail.mailto import WriteAsDialog

    written = []
    dialog = window.open_desktop_dialog()
    settle(window)  # its reading runs on the worker
    try:
        written.append(shoot_dialog(dialog, out_dir / "desktop-integration.png"))
    finally:
        dialog.reject()
    # a mailto: link whose address says nothing about whose it is: which principal writes it
    principals = window.store.principals()
    write_as = WriteAsDialog(parse_mailto("mailto:pat@client.example?subject=Deed%20of%20assignment"), principals,
                             [principals[-1].id], window)
    write_as.show()
    written.append(shoot_dialog(write_as, out_dir / "mailto-write-as.png"))
    write_as.reject()
    # what the user sees when something breaks (a made-up failure; nothing is logged)
    crash = CrashDialog("KeyError: 'thread_id'", "Assistant 0.1.0, Python 3.11.7, linux\nTraceback (most recent call "
                        "last):\n  File \"assistant/ui/mail/inbox.py\", line 212, in on_current_changed\n"
                        "    thread_id = row['thread_id']\nKeyError: 'thread_id'\n", window)
    crash.show()
    written.append(shoot_dialog(crash, out_dir / "crash-dialog.png"))
    crash.reject()
    return written


def imap_account_shots(window, out_dir: Path, principal) -> list[Path]:
    """Add account → IMAP: a preset with where to make its app password, then the user's own server with a certificate
    not trusted (a made-up fingerprint; nothing is signed in to), then Gmail offering the principal's existing sign-in."""
    from assistant.ui.setup.account_dialog import AccountDialog

    dialog = AccountDialog(window.tasks, principal, window)
    dialog.tabs.setCurrentWidget(dialog.imap)
    dialog.imap.preset.setCurrentIndex(dialog.imap.preset.findData("fastmail"))
    dialog.show()
    try:
        written = [shoot_dialog(dialog, out_dir / "account-imap-preset.png")]
        dialog.imap.preset.setCurrentIndex(dialog.imap.preset.findData("other"))
        dialog.imap.imap_host.setText("mail.whitfield-law.example")
        dialog.imap.password.setText("app-password")
        fingerprint = ":".join(["4F", "A2", "19", "C7"] * 8)
        dialog.on_failed(f"the certificate of mail.whitfield-law.example:993 is not trusted (self-signed certificate);"
                         f" its SHA-256 fingerprint is {fingerprint} — if that is your server's, add the account again"
                         f" with --trust-fingerprint {fingerprint}")
        written.append(shoot_dialog(dialog, out_dir / "account-imap-certificate.png"))
        # Gmail, for a principal whose Gmail account is signed in (a made-up account: nothing is signed in to)
        from PySide6.QtWidgets import QApplication

        from assistant.domain import Account

        window.tasks.run(lambda _store: None).result(timeout=30)  # the dialog's own read of the accounts is done…
        QApplication.processEvents()  # …and delivered, so it does not replace the made-up one below
        dialog.error.hide()
        dialog.imap.set_sign_ins([Account(principal.id, "gmail", principal.primary_address, id=1)])
        dialog.imap.preset.setCurrentIndex(dialog.imap.preset.findData("gmail"))
        dialog.imap.user.setText(principal.primary_address)
        dialog.imap.password.clear()
        written.append(shoot_dialog(dialog, out_dir / "account-imap-oauth.png"))
    finally:
        dialog.reject()
    return written


def keys_shots(window, out_dir: Path) -> list[Path]:
    """The command palette (Ctrl+K) filtered as a user types, and the shortcut sheet (?): each dialog as it shows."""
    written = []
    window.views.setCurrentIndex(window.INBOX_TAB)
    window.open_command_palette()
    palette = window.command_palette
    if palette is not None:
        palette.filter.setText("ar")
        settle(window)
        written.append(shoot_dialog(palette, out_dir / "command-palette.png"))
        palette.reject()
    window.show_shortcut_sheet()
    sheet = window.shortcut_sheet
    if sheet is not None:
        settle(window)
        written.append(shoot_dialog(sheet, out_dir / "shortcut-sheet.png"))
        sheet.reject()
    return written


def offboard_shots(window, out_dir: Path) -> list[Path]:
    """File → Offboard principal…: the question that names the principal (answered Cancel: nothing is deleted)."""
    dialog = window.offboarding.open_dialog()
    if dialog is None:
        return []
    settle(window)
    try:
        return [shoot_dialog(dialog, out_dir / "offboard-dialog.png")]
    finally:
        dialog.reject()


def time_shots(window, out_dir: Path, principals: list) -> list[Path]:
    """The Time tab: the first two principals' weeks (totals, the retainer's burn-down, the selected entry's history),
    the first's month; the dialog that adds time and the billing settings. Nothing is written to the workspace."""
    view, written = window.time_view, []
    for number, principal in enumerate(principals[:2]):
        window.select_principal(principal.id)
        window.views.setCurrentWidget(view)
        view.go_today()
        settle(window)
        if view.model.rowCount():
            view.table.selectRow(view.model.rowCount() - 1)
        written.append(shoot(window, out_dir / f"time-week-{slug(principal.name)}.png"))
        if number == 0:
            view.period.setCurrentIndex(view.period.findData("month"))
            written.append(shoot(window, out_dir / f"time-month-{slug(principal.name)}.png"))
            view.period.setCurrentIndex(view.period.findData("week"))
            settle(window)
            for open_dialog, file_name in ((view.open_add, "time-add-dialog.png"),
                                           (view.open_billing, "time-billing-dialog.png")):
                dialog = open_dialog()
                if dialog is not None:
                    settle(window)
                    dialog.grab().save(str(out_dir / file_name))
                    written.append(out_dir / file_name)
                    dialog.reject()
    return written


def take_screenshots(out_dir: Path, workspace: Path, empty_workspace: Path, size: tuple[int, int] = SIZE) -> list[Path]:
    from assistant.ui.main_window import MainWindow

    written: list[Path] = []
    window = MainWindow(workspace)
    try:
        window.resize(*size)
        window.show()
        settle(window)
        rows = range(window.principals.rowCount())
        principals = [p for p in map(window.principals.principal_at, rows) if p is not None]  # not All principals
        for number, principal in enumerate(principals):
            window.select_principal(principal.id)
            window.views.setCurrentIndex(window.INBOX_TAB)
            written.append(shoot(window, out_dir / f"inbox-{number + 1}-{slug(principal.name)}.png"))
            if number == 0:
                model = window.inbox.model
                with_attachment = next((row for row in range(model.rowCount())
                                        if (t := model.thread_at(row)) is not None and t.has_attachments), None)
                if with_attachment is not None:
                    window.inbox.threads.select_row(with_attachment)
                    written.append(shoot(window, out_dir / f"reader-attachment-{slug(principal.name)}.png"))
                    written.extend(compose_shots(window, out_dir, slug(principal.name)))
                window.views.setCurrentIndex(window.CALENDAR_TAB)
                written.append(shoot(window, out_dir / f"calendar-week-{slug(principal.name)}.png"))
                written.extend(calendar_shots(window, out_dir, slug(principal.name)))
            if number < 2:
                window.views.setCurrentIndex(window.views.indexOf(window.calls))
                written.append(shoot(window, out_dir / f"calls-{slug(principal.name)}.png"))
                quick_log = window.calls.open_quick_log() if number == 0 else None
                if quick_log is not None:
                    first = window.calls.model.call_at(0)
                    quick_log.number.setText(first.number_raw if first is not None else "")
                    settle(window)
                    quick_log.grab().save(str(out_dir / "calls-quick-log.png"))
                    written.append(out_dir / "calls-quick-log.png")
                    quick_log.reject()
            # every principal's own board; the first with a card's editor open
            window.views.setCurrentIndex(window.views.indexOf(window.board))
            written.append(shoot(window, out_dir / f"board-{slug(principal.name)}.png"))
            if number == 0 and window.board.snapshot and window.board.snapshot.cards:
                card_dialog = window.board.open_card(window.board.snapshot.cards[0])
                if card_dialog is not None:
                    settle(window)
                    card_dialog.grab().save(str(out_dir / "board-card.png"))
                    written.append(out_dir / "board-card.png")
                    card_dialog.reject()
        written.extend(all_principals_shots(window, out_dir))
        if principals:
            window.select_principal(principals[0].id)
            written.extend(approvals_shots(window, out_dir))
            written.extend(outgoing_shots(window, out_dir))
            written.extend(time_shots(window, out_dir, principals))
            written.extend(keys_shots(window, out_dir))
            written.extend(offboard_shots(window, out_dir))
            written.extend(desktop_shots(window, out_dir))
            written.extend(imap_account_shots(window, out_dir, principals[0]))
        # every principal's day on one timeline in your time (business hours, meetings, due items, now), what is
        # due and overdue below it, the notifications at the bottom
        window.views.setCurrentIndex(window.views.indexOf(window.today))
        window.today.reload(meetings=True)
        settle(window)
        written.append(shoot(window, out_dir / "today.png"))
        timeline = window.today.timeline
        meetings = [number for number, hit in enumerate(timeline.hits()) if hit.meeting is not None]
        if meetings:  # the first meeting selected, as the keyboard leaves it (its tooltip is the accessible text)
            timeline.select(meetings[0])
        written.append(shoot_dialog(timeline, out_dir / "today-timeline.png"))  # the widget alone, at full size
    finally:
        window.close()
        window.deleteLater()

    first_run = MainWindow(empty_workspace)
    try:
        first_run.resize(*size)
        first_run.show()
        written.append(shoot(first_run, out_dir / "first-run.png"))
    finally:
        first_run.close()
        first_run.deleteLater()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.tools.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--workspace", type=Path, help="an existing workspace (default: a fresh demo)")
    parser.add_argument("--dark", action="store_true", help="with a dark palette (the Fusion style's colours)")
    parser.add_argument("--size", default=f"{SIZE[0]}x{SIZE[1]}", metavar="WxH", help="the window's size (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        width, height = (int(n) for n in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size takes WIDTHxHEIGHT, such as 1280x720, not {args.size!r}")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from assistant.core import timezones
    from assistant.ui.app import configure_application

    timezones.configure()
    args.outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="assistant-screenshots-") as tmp:
        tmp_dir = Path(tmp)
        app = QApplication.instance() or QApplication([sys.argv[0]])
        assert isinstance(app, QApplication)  # widgets are drawn: any instance already there is a QApplication
        configure_application(app)
        if args.dark:
            from assistant.ui.style import dark_palette

            app.setStyle("Fusion")
            app.setPalette(dark_palette())
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_dir / "settings"))
        workspace = args.workspace
        if workspace is None:
            try:
                from assistant.demo.build import build_demo
            except ImportError:
                print("error: the demo builder is not available; pass --workspace", file=sys.stderr)
                return 1
            workspace = tmp_dir / "demo"
            build_demo(workspace)
        elif not workspace.is_dir():
            print(f"error: no workspace at {workspace}", file=sys.stderr)
            return 1
        take_screenshots(args.outdir, workspace, tmp_dir / "empty", (width, height))
    return 0


if __name__ == "__main__":
    sys.exit(main())
