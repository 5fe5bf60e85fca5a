"""A feature's after-mail-pull hook that breaks must not fail the mail sync that already landed (sync/hooks.py)."""
from __future__ import annotations

from assistant.domain import AccountStatus
from assistant.sync import engine
from assistant.sync.engine import sync_account


def test_a_hook_that_raises_before_or_after_the_pull_is_a_warning_and_the_mail_still_syncs(local, monkeypatch):
    seen: list[tuple[int, ...]] = []

    def breaks_after(store, account):
        def after(pulled):
            raise KeyError("a feature's bug")
        return after

    def breaks_before(store, account):
        raise RuntimeError("could not note where the mail stood")

    def works(store, account):
        def after(pulled):
            seen.append(pulled.new_message_ids)
            return ["the working hook looked"]
        return after

    monkeypatch.setattr(engine, "mail_pull_hooks",
                        lambda: (("a-broken", breaks_after), ("b-broken", breaks_before), ("c-works", works)))
    for n in range(3):
        local.add(n)
    report = sync_account(local.store, local.account.id)
    assert report.errors == []
    assert local.count() == 3
    assert local.store.account(local.account.id).status is AccountStatus.OK
    assert any(w.startswith("a-broken: internal error") for w in report.warnings)
    assert any(w.startswith("b-broken: internal error") for w in report.warnings)
    assert "the working hook looked" in report.warnings
    assert len(seen) == 1 and len(seen[0]) == 3  # the other hooks still ran, with what the pull brought
