"""A mailto: link in the running window: compose filled from the link, as the principal the address points at, or as
the one the user picks when it does not say."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication

from assistant.mail.mailto import parse_mailto
from assistant.ui.mail.mailto import WriteAsDialog, open_mailto


def write_as_dialogs() -> list[WriteAsDialog]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, WriteAsDialog) and w.isVisible()]


def test_an_address_nobody_knows_asks_which_principal(qtbot, workspace, make_window):
    ws, ann, ken = workspace
    window = make_window(ws)
    open_mailto(window, "mailto:Pat%20Lee%20%3Cpat@client.example%3E?subject=Deed%20of%20assignment"
                        "&cc=office@client.example&body=Dear%20Pat,%0D%0A")
    qtbot.waitUntil(lambda: len(write_as_dialogs()) == 1)
    dialog = write_as_dialogs()[0]
    names = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert [n.split("  ")[0] for n in names] == ["Ann", "Ken"]
    dialog.list.setCurrentRow(1)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        dialog.accept()
    compose = opened.args[0]
    qtbot.addWidget(compose)
    assert compose.principal.id == ken.id
    assert compose.to_edit.text() == "Pat Lee <pat@client.example>"
    assert compose.cc_edit.text() == "office@client.example"
    assert compose.subject_edit.text() == "Deed of assignment"
    assert compose.body.toPlainText().startswith("Dear Pat,\n")


def test_an_address_that_says_whose_opens_compose_at_once(qtbot, workspace, make_window):
    ws, ann, ken = workspace
    window = make_window(ws)
    with qtbot.wait_signal(window.inbox_actions.compose_opened, timeout=5000) as opened:
        open_mailto(window, "mailto:ken@ken.example?subject=Note%20to%20self")
    compose = opened.args[0]
    qtbot.addWidget(compose)
    assert compose.principal.id == ken.id
    assert not write_as_dialogs()


def test_a_bad_link_is_one_line_in_the_notice(qtbot, workspace, make_window):
    ws, _ann, _ken = workspace
    window = make_window(ws)
    open_mailto(window, "mailto:" + "a" * 70_000)
    assert "the mailto: link is 70007 characters long" in window.notice.text()


def test_parse_mailto_reads_rfc_6068():
    link = parse_mailto("mailto:a@x.org,b@y.org?to=c@z.org&subject=1+1%3D2&body=x%0D%0Ay&bcc=d@q.org&X-Foo=bar")
    assert [a.email for a in link.to] == ["a@x.org", "b@y.org", "c@z.org"]
    assert link.subject == "1+1=2"  # "+" is a plus in a mailto: URI
    assert link.body == "x\ny"
    assert [a.email for a in link.bcc] == ["d@q.org"]
