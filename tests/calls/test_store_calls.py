from datetime import UTC, datetime, timedelta

import pytest

from assistant.board.service import make_task_from
from assistant.calls.manual import call_back, log_call
from assistant.calls.matching import ContactMatcher, pick_principal
from assistant.core.errors import NotFound
from assistant.domain import Account, Address, Call, CallDirection, Contact, Message, Principal
from assistant.store import calls as call_store
from assistant.store import contacts as contact_store
from assistant.store import mail as mail_store


@pytest.fixture
def two(workspace):
    ann = workspace.add_principal(Principal(name="Ann", timezone="America/New_York", addresses=["ann@example.org"]))
    ken = workspace.add_principal(Principal(name="Ken", timezone="Asia/Tokyo", region="JP", addresses=["k@example.jp"]))
    return workspace, ann, ken


def test_contact_numbers_match_in_any_spelling(two):
    store, ann, _ken = two
    contact_store.add_contact(store.scope(ann.id), Contact(principal_id=ann.id, name="Grace Hopper", emails=["grace@navy.example"],
                                            phones=["+12125550123"]))  # contacts keep E.164
    matcher = ContactMatcher(store.scope(ann.id), "US")
    for spelling in ("212-555-0123", "+12125550123", "1 212 555 0123", "tel:+1-212-555-0123"):
        match = matcher.match(spelling)
        assert (match.name, match.emails, match.source) == ("Grace Hopper", ["grace@navy.example"], "contact")
    assert matcher.match("212-555-0199").name == ""
    assert matcher.match("Anonymous").name == ""


def test_names_from_earlier_calls_and_never_from_another_principal(two):
    store, ann, ken = two
    log_call(store, ken.id, number="+12125550123", direction="in", started_utc=datetime(2026, 1, 1, tzinfo=UTC),
             caller_name="Secret Name")
    call = log_call(store, ann.id, number="(212) 555-0123", direction="in", started_utc=datetime(2026, 1, 2, tzinfo=UTC))
    assert call.caller_name == ""  # Ken's contact is not Ann's
    log_call(store, ann.id, number="sip:Bob@PBX.example", direction="out", started_utc=datetime(2026, 1, 3, tzinfo=UTC),
             caller_name="Bob")
    again = log_call(store, ann.id, number="sip:bob@pbx.example", direction="in",
                     started_utc=datetime(2026, 1, 4, tzinfo=UTC))
    assert again.caller_name == "Bob"


def test_the_principal_is_picked_when_exactly_one_knows_the_number(two):
    store, ann, ken = two
    contact_store.add_contact(store.scope(ken.id), Contact(principal_id=ken.id, name="山本", phones=["+81312345678"]))
    assert pick_principal(store, "+81 3-1234-5678", ann.id) == ken.id
    assert pick_principal(store, "03-1234-5678", ann.id) == ken.id  # read in Ken's region too
    assert pick_principal(store, "+12125550100", ann.id) == ann.id  # nobody knows it: the current one
    log_call(store, ann.id, number="+81312345678", direction="out", started_utc=datetime(2026, 1, 1, tzinfo=UTC))
    assert pick_principal(store, "+81312345678", ken.id) == ken.id  # both know it: the current one
    assert pick_principal(store, "+81312345678", ann.id) == ann.id


def test_threads_with_a_caller_are_found_by_their_address_within_the_principal(two):
    store, ann, ken = two
    for p in (ann, ken):
        account = store.add_account(Account(principal_id=p.id, kind="local", address=p.primary_address))
        mail_store.upsert_message(store.scope(p.id), Message(
            principal_id=p.id, account_id=account.id, remote_id="m1", subject=f"Contract for {p.name}",
            sender=Address("Grace Hopper", "Grace@Navy.example"), to=[Address(p.name, p.primary_address)],
            date_utc=datetime(2026, 1, 1, tzinfo=UTC), message_id_header=f"<m1-{p.id}@x>",
        ))
        mail_store.upsert_message(store.scope(p.id), Message(
            principal_id=p.id, account_id=account.id, remote_id="m2", subject=f"To Grace from {p.name}",
            sender=Address(p.name, p.primary_address), to=[Address("", "grace@navy.example")],
            date_utc=datetime(2026, 1, 2, tzinfo=UTC), message_id_header=f"<m2-{p.id}@x>",
        ))
    threads = call_store.threads_with(store.scope(ann.id), ["grace@navy.example"])
    assert sorted(t["subject"] for t in threads) == ["Contract for Ann", "To Grace from Ann"]
    assert call_store.emails_for_name(store.scope(ann.id), "grace hopper") == ["grace@navy.example"]
    assert call_store.threads_with(store.scope(ann.id), []) == []


def test_talk_time_per_day_is_counted_in_the_principals_zone_across_the_dst_change(two):
    store, ann, _ken = two
    # New York springs forward on 2026-03-08; 23:30 local on the 7th is 04:30 UTC on the 8th
    for when, seconds in [(datetime(2026, 3, 8, 4, 30, tzinfo=UTC), 100), (datetime(2026, 3, 8, 5, 30, tzinfo=UTC), 20),
                          (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), 7)]:
        log_call(store, ann.id, number="+12125550123", direction="in", started_utc=when, duration_s=seconds)
    days = call_store.talk_time(store.scope(ann.id), "America/New_York")
    assert days == [{"period": "2026-03-08", "calls": 2, "seconds": 27},
                    {"period": "2026-03-07", "calls": 1, "seconds": 100}]
    start, end = call_store.today_bounds("America/New_York", now=datetime(2026, 3, 8, 16, 0, tzinfo=UTC))
    assert end - start == timedelta(hours=23)
    today = call_store.calls_page(store.scope(ann.id), call_store.CallFilter(since_utc=start, until_utc=end))
    assert len(today) == 2


def test_filters_and_paging(two):
    store, ann, ken = two
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i, direction in enumerate(["in", "missed", "out", "missed", "voicemail"]):
        log_call(store, ann.id, number=f"+1212555010{i}", direction=direction, started_utc=base + timedelta(hours=i),
                 notes="pricing" if i == 2 else "")
    log_call(store, ken.id, number="+12125550101", direction="missed", started_utc=base)
    scope = store.scope(ann.id)
    assert call_store.count_calls(scope) == 5
    assert call_store.count_calls(scope, call_store.CallFilter(direction="missed")) == 2
    assert [c.number_raw for c in call_store.calls_page(scope, call_store.CallFilter(party_key="+12125550101"))] == [
        "+12125550101"]
    assert [c.notes for c in call_store.calls_page(scope, call_store.CallFilter(text="pricing"))] == ["pricing"]
    page = call_store.calls_page(scope, offset=1, limit=2)
    assert [c.number_raw for c in page] == ["+12125550103", "+12125550102"]
    with pytest.raises(NotFound):
        call_store.get_call(store.scope(ken.id), page[0].id)


def test_call_back_and_task_carry_the_link(two):
    store, ann, _ken = two
    call = log_call(store, ann.id, number="+12125550123", direction="missed", started_utc=datetime(2026, 1, 1, tzinfo=UTC),
                    caller_name="Grace")
    due = datetime(2026, 1, 2, 14, 0, tzinfo=UTC)
    reminder = call_back(store, ann.id, call, due)
    assert (reminder.kind, reminder.link, reminder.due_utc) == ("call-back", f"call:{call.id}", due)
    assert "Grace" in reminder.text
    task = make_task_from(store, ann.id, "call", call.id)
    assert task.link == f"call:{call.id}" and task.title == "Follow up: Missed call from Grace"


def test_update_call_keeps_the_search_index_in_step(two):
    store, ann, _ken = two
    call = log_call(store, ann.id, number="+12125550123", direction="in", started_utc=datetime(2026, 1, 1, tzinfo=UTC))
    call_store.update_call(store.scope(ann.id), call.id, notes="discussed the lease", outcome="done")
    found = call_store.calls_page(store.scope(ann.id), call_store.CallFilter(text="lease"))
    assert [(c.id, c.outcome) for c in found] == [(call.id, "done")]


def test_a_number_in_someones_mail_signature_names_them(two):
    store, ann, ken = two
    account = store.add_account(Account(principal_id=ann.id, kind="local", address="ann@example.org"))
    mail_store.upsert_message(store.scope(ann.id), Message(
        principal_id=ann.id, account_id=account.id, remote_id="sig", subject="Lease",
        sender=Address("Marcus Bell", "mbell@harlow.example"), to=[Address("Ann", "ann@example.org")],
        date_utc=datetime(2026, 1, 1, tzinfo=UTC), message_id_header="<sig@x>",
        body_text="See you then.\n\n--\nMarcus Bell | Harlow Group\nT (212) 555-0147",
    ))
    mail_store.upsert_message(store.scope(ann.id), Message(
        principal_id=ann.id, account_id=account.id, remote_id="own", subject="My number",
        sender=Address("Ann", "ann@example.org"), to=[Address("", "x@example.org")],
        date_utc=datetime(2026, 1, 2, tzinfo=UTC), message_id_header="<own@x>", body_text="Call me on 212 555 0199",
    ))
    matcher = ContactMatcher(store.scope(ann.id), "US")
    match = matcher.match("+1 212-555-0147")
    assert (match.name, match.emails, match.source) == ("Marcus Bell", ["mbell@harlow.example"], "mail")
    assert matcher.match("+12125550199").name == ""  # the principal's own mail does not name anyone
    assert ContactMatcher(store.scope(ken.id), "JP").match("+12125550147").name == ""  # Ann's mail, not Ken's


def test_by_contact_finds_calls_logged_without_the_name(two):
    store, ann, ken = two
    contact_store.add_contact(store.scope(ann.id), Contact(principal_id=ann.id, name="Grace Hopper", phones=["+12125550123"]))
    contact_store.add_contact(store.scope(ken.id), Contact(principal_id=ken.id, name="Grace Other", phones=["+12125550999"]))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    from assistant.store import calls as cs

    call_store.add_call(store.scope(ann.id), Call(principal_id=ann.id, direction=CallDirection.INCOMING, number_raw="2125550123",
                                      number_e164="+12125550123", number_valid=True, started_utc=base))
    log_call(store, ann.id, number="+12125550100", direction="out", started_utc=base, notes="about Grace's visit")
    log_call(store, ann.id, number="+12125550999", direction="out", started_utc=base)
    scope = store.scope(ann.id)
    f = cs.CallFilter(text="grace", also_keys=cs.contact_keys_named(scope, "grace", "US"))
    assert f.also_keys == ["+12125550123"]  # Ken's Grace is not Ann's contact
    assert sorted(c.number_e164 for c in cs.calls_page(scope, f)) == ["+12125550100", "+12125550123"]


def test_the_duplicate_check_of_an_imported_call_searches_the_unique_index(two):
    """An import asks once per call whether its (source, source_key) is here. The unique index on those is partial
    (``WHERE source_key != ''``), and SQLite uses a partial index only when the query carries its condition: without it
    the check walked all of the principal's calls, and a 10,000-row import took 15 s (issue 15, point 7)."""
    store, ann, _ken = two
    scope = store.scope(ann.id)
    for n in range(3):
        call_store.add_call(scope, Call(principal_id=ann.id, direction=CallDirection.INCOMING, number_raw=f"+1212555010{n}",
                                        started_utc=datetime(2026, 1, 1, tzinfo=UTC), source="twilio",
                                        source_key=f"CA{n}"))
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    try:
        _id, added = call_store.add_call(scope, Call(principal_id=ann.id, direction=CallDirection.INCOMING,
                                                     number_raw="+12125550101", started_utc=datetime(2026, 1, 1, tzinfo=UTC),
                                                     source="twilio", source_key="CA1"))
    finally:
        store.db.set_trace_callback(None)
    assert not added
    lookups = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "source_key" in s]
    assert lookups, statements
    for sql in lookups:  # the statement as run, its parameters written in
        plan = " | ".join(row["detail"] for row in store.db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "USING COVERING INDEX calls_source_key" in plan or "USING INDEX calls_source_key" in plan, (sql, plan)
