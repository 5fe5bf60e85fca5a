import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.core.errors import InvalidInput
from assistant.domain import Call, CallDirection, Principal
from assistant.importing import calls as calls_io
from assistant.importing.base import ImportProgress
from assistant.importing.calls import MappingNeeded, detect, import_calls, parse_mapping, read_export
from assistant.importing.path import import_path
from assistant.store import Store
from assistant.store import calls as call_store

SAMPLES = Path(__file__).parent / "samples" / "calls"
TESTDATA = Path(__file__).parents[2].parent / "shared" / "testdata" / "calllogs"
GOOGLE_VOICE = TESTDATA / "google_voice_takeout"
TWILIO = TESTDATA / "twilio"


@pytest.fixture
def ada(workspace):
    return workspace.add_principal(Principal(name="Ada", timezone="America/New_York", addresses=["ada@example.org"]))


def _calls(store, principal):
    return call_store.recent_calls(store.scope(principal.id))


@pytest.mark.parametrize("path,kind", [
    (GOOGLE_VOICE, "google-voice"),
    (GOOGLE_VOICE / "psanford" / "voicemail.html", "google-voice"),
    (TWILIO / "call_fetch_200.json", "twilio-json"),
    (TWILIO / "calls_list_page.json", "twilio-json"),
    (TWILIO / "calls_list_empty.json", "twilio-json"),
    (SAMPLES / "twilio-console-export.csv", "twilio-csv"),
    (SAMPLES / "android-calls.xml", "android"),
    (SAMPLES / "android-sms.xml", "android"),
    (SAMPLES / "ringcentral-call-log.json", "ringcentral-json"),
    (SAMPLES / "ringcentral-call-log.csv", "ringcentral-csv"),
    (SAMPLES / "generic-phone-system.csv", "csv"),
])
def test_format_is_detected_from_content_not_the_name(path, kind, tmp_path):
    assert detect(path) == kind
    if path.is_file():
        renamed = tmp_path / "export.dat"
        renamed.write_bytes(path.read_bytes())
        assert detect(renamed) == kind


def test_mail_is_not_a_call_log():
    assert detect(TESTDATA.parent / "ics" / "icaljs") == ""
    mail = next((TESTDATA.parent / "mime" / "cpython_test_email").glob("msg_01.txt"))
    assert detect(mail) == ""


def test_google_voice_takeout_twice_gives_the_same_counts_without_duplicates(workspace, ada):
    first = import_calls(workspace, ada.id, GOOGLE_VOICE)
    assert (first.imported, len(first.rejected)) == (12, 0)
    texts = [item for item, text in first.warnings if "text conversation" in text]
    assert first.skipped == len(texts) == 13  # group texts and SMS, reported one by one
    second = import_calls(workspace, ada.id, GOOGLE_VOICE)
    assert (second.imported, second.skipped, len(second.rejected)) == (0, 25, 0)
    calls = _calls(workspace, ada)
    assert len(calls) == 12
    by_file = {(c.number_raw, c.direction.value, c.duration_s) for c in calls}
    assert ("+17323211010", "in", 771) in by_file  # "17323211010 - Received": 12:51
    assert ("+17323213333", "in", 1786) in by_file  # "Recorded" is a call
    recorded = next(c for c in calls if c.number_raw == "+17323213333")
    assert recorded.caller_name == "Albert Einstein" and recorded.outcome == "recorded"
    voicemail = next(c for c in calls if c.caller_name == "Sleve Mcdichael")
    assert voicemail.direction.value == "voicemail" and "quick questions" in voicemail.notes
    assert voicemail.started_utc == datetime(2018, 7, 23, 16, 23, 31, tzinfo=UTC)
    missed = next(c for c in calls if c.caller_name == "Dwigt Rortugal")
    assert missed.number_raw == "+66666" and not missed.number_valid


def test_one_folder_inside_the_takeout_gives_the_same_keys(workspace, ada):
    import_calls(workspace, ada.id, GOOGLE_VOICE / "wjcarpenter")
    again = import_calls(workspace, ada.id, GOOGLE_VOICE)
    assert again.imported == 2  # only psanford's two calls are new


def test_twilio_json_twice_and_the_client_and_sip_parties(workspace, ada):
    for _ in range(2):
        page = import_calls(workspace, ada.id, TWILIO / "calls_list_page.json")
        fetched = import_calls(workspace, ada.id, TWILIO / "call_fetch_200.json")
        empty = import_calls(workspace, ada.id, TWILIO / "calls_list_empty.json")
        assert empty.imported == 0 and not empty.rejected
    calls = _calls(workspace, ada)
    assert len(calls) == 1  # both files describe the call CAaaaa…: one row
    assert (page.imported, page.skipped, fetched.skipped) == (0, 1, 1)


def test_twilio_api_page_call_is_read_with_its_sip_party(workspace, ada):
    import_calls(workspace, ada.id, TWILIO / "calls_list_page.json")
    (call,) = _calls(workspace, ada)
    assert call.direction.value == "out" and call.number_raw == "sip:kevin@example.com"
    assert call.number_e164 == "" and call.outcome == "failed" and call.source_key == "CA" + "a" * 32


def test_twilio_console_csv(workspace, ada):
    report = import_calls(workspace, ada.id, SAMPLES / "twilio-console-export.csv")
    assert report.imported == 3
    assert [item for item, _ in report.rejected] == ["twilio-console-export.csv line 5", "twilio-console-export.csv line 6"]
    assert "no call sid" in report.rejected[0][1] and "last tuesday" in report.rejected[1][1]
    calls = {c.source_key: c for c in _calls(workspace, ada)}
    assert calls["CA" + "2" * 32].direction.value == "missed"
    assert calls["CA" + "3" * 32].number_raw == "sip:ada@example.com"
    assert calls["CA" + "1" * 32].caller_name == "LINUS TORVALDS" and calls["CA" + "1" * 32].duration_s == 241
    assert import_calls(workspace, ada.id, SAMPLES / "twilio-console-export.csv").imported == 0


def test_android_call_log(workspace, ada):
    report = import_calls(workspace, ada.id, SAMPLES / "android-calls.xml")
    assert report.imported == 5
    assert report.rejected == [("android-calls.xml line 9", "cannot read the time 'not-a-date'")]
    calls = sorted(_calls(workspace, ada), key=lambda c: c.started_utc)
    assert [c.direction.value for c in calls] == ["in", "missed", "in", "out", "voicemail"]
    assert calls[0].caller_name == "Grace Hopper" and calls[0].duration_s == 125
    assert calls[1].caller_name == "" and calls[1].number_e164 == "+12125550199"
    assert calls[2].number_raw == "private" and calls[2].number_e164 == ""
    assert calls[0].started_utc == datetime.fromtimestamp(1795340000, UTC)
    assert import_calls(workspace, ada.id, SAMPLES / "android-calls.xml").imported == 0


def test_android_sms_backup_has_no_calls_and_says_so(workspace, ada):
    report = import_calls(workspace, ada.id, SAMPLES / "android-sms.xml")
    assert (report.imported, report.skipped, report.rejected) == (0, 2, [])


def test_android_truncated_file_keeps_what_came_before(workspace, ada):
    report = import_calls(workspace, ada.id, SAMPLES / "android-truncated.xml")
    assert report.imported == 2
    assert len(report.rejected) == 1 and report.rejected[0][0].startswith("android-truncated.xml line ")


def test_ringcentral_json(workspace, ada):
    report = import_calls(workspace, ada.id, SAMPLES / "ringcentral-call-log.json")
    assert report.imported == 4 and report.skipped == 1  # the fax
    assert [item for item, _ in report.rejected] == ["ringcentral-call-log.json record 6"]
    calls = {c.number_e164: c for c in _calls(workspace, ada)}
    assert calls["+14155550111"].caller_name == "Linus Torvalds" and calls["+14155550111"].direction.value == "in"
    assert calls["+14155550112"].direction.value == "missed"
    assert calls["+14155550113"].direction.value == "voicemail"
    assert calls["+442079460958"].direction.value == "out" and calls["+442079460958"].caller_name == "Ada Lovelace"
    assert import_calls(workspace, ada.id, SAMPLES / "ringcentral-call-log.json").imported == 0


def test_ringcentral_csv_reads_local_times_in_the_principals_zone(workspace, ada):
    report = import_calls(workspace, ada.id, SAMPLES / "ringcentral-call-log.csv")
    assert report.imported == 3
    assert report.rejected == [("ringcentral-call-log.csv line 5", "unknown direction 'sideways'")]
    linus = next(c for c in _calls(workspace, ada) if c.caller_name == "Linus Torvalds")
    assert linus.started_utc == datetime(2026, 11, 20, 12, 4, tzinfo=UTC)  # 7:04 AM in New York
    assert linus.duration_s == 241 and linus.number_e164 == "+14155550111"


def test_generic_csv_needs_a_mapping_once_then_remembers_it(workspace, ada):
    path = SAMPLES / "generic-phone-system.csv"
    with pytest.raises(MappingNeeded) as asked:
        import_calls(workspace, ada.id, path)
    assert "Phone" in str(asked.value)
    mapping = parse_mapping("start=Date,time=Time,number=Phone,name=Who,direction=Kind,duration=Length,notes=Memo")
    report = import_calls(workspace, ada.id, path, mapping=mapping)
    assert report.imported == 4
    assert [item for item, _ in report.rejected] == ["generic-phone-system.csv line 6", "generic-phone-system.csv line 7"]
    again = import_calls(workspace, ada.id, path)  # no mapping given: the saved one is used
    assert (again.imported, again.skipped) == (0, 4)
    grace = next(c for c in _calls(workspace, ada) if c.notes == "asked about the contract")
    assert grace.duration_s == 125 and grace.started_utc == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    # the generic `assistant import` finds it too, now that the columns are known
    assert import_path(workspace, ada.id, path).kind == "calls:csv"


def test_a_mapping_that_names_a_missing_column_is_refused(workspace, ada):
    with pytest.raises(InvalidInput):
        import_calls(workspace, ada.id, SAMPLES / "generic-phone-system.csv",
                     mapping={"start": "When", "number": "Phone"})
    with pytest.raises(InvalidInput):
        parse_mapping("colour=Red")


def test_assistant_import_hooks_call_logs_in(workspace, ada):
    report = import_path(workspace, ada.id, GOOGLE_VOICE)
    assert report.kind == "calls:google-voice" and report.imported == 12
    report = import_path(workspace, ada.id, TWILIO / "call_fetch_200.json")
    assert report.kind == "calls:twilio-json" and report.imported == 1


# -- arbitrary CSV --------------------------------------------------------------------------------------------------------
cell = st.one_of(st.text(max_size=12), st.sampled_from(["", "in", "out", "missed", "2026-11-20 09:00", "+12125550123",
                                                       "1:02", "x,y", '"q"', "\n", "\x00", "1795340000000"]))


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          deadline=None)
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=6), max_size=12), garbage=st.binary(max_size=40))
def test_arbitrary_csv_never_raises_and_every_row_imports_or_is_rejected_with_its_line(workspace, ada, rows, garbage,
                                                                                      tmp_path_factory):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Start", "Number", "Direction", "Duration", "Name", "Notes"])
    for row in rows:
        writer.writerow(row)
    data = buffer.getvalue().encode("utf-8") + garbage
    path = tmp_path_factory.mktemp("csv") / "calls.csv"
    path.write_bytes(data)
    mapping = {"start": "Start", "number": "Number", "direction": "Direction", "duration": "Duration", "name": "Name",
               "notes": "Notes"}
    before = len(call_store.recent_calls(workspace.scope(ada.id), limit=100000))
    report = import_calls(workspace, ada.id, path, mapping=mapping)
    after = len(call_store.recent_calls(workspace.scope(ada.id), limit=100000))
    assert after - before == report.imported
    for item, reason in report.rejected:
        assert item.startswith("calls.csv line ") and int(item.rsplit(" ", 1)[1]) >= 2 and reason
    non_blank = [r for r in rows if any(c.strip() for c in r)]
    assert report.imported + report.skipped + len(report.rejected) >= len(non_blank)


def test_samples_are_valid_json():
    json.loads((SAMPLES / "ringcentral-call-log.json").read_text())
    assert list(read_export(SAMPLES / "ringcentral-call-log.json", "ringcentral-json", "UTC"))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          deadline=None)
@given(prefix=st.sampled_from([b"", b"<calls>", b'{"calls": [', b'{"records": [{"startTime": ', b"Sid,From,To,Direction\n",
                               b'<html><div class="haudio">', b"\xef\xbb\xbf"]),
       body=st.binary(max_size=300))
def test_any_file_content_is_imported_or_refused_in_one_line(workspace, ada, prefix, body, tmp_path_factory):
    from assistant.core.errors import UserError

    path = tmp_path_factory.mktemp("any") / "export"
    path.write_bytes(prefix + body)
    kind = detect(path)
    if not kind:
        return
    try:
        report = import_calls(workspace, ada.id, path)
    except UserError as exc:
        assert "\n" not in str(exc).strip() or isinstance(exc, MappingNeeded)
        return
    assert report.imported >= 0 and all(reason for _item, reason in report.rejected)


def test_mail_inside_a_takeout_folder_is_reported_not_passed_over(workspace, ada, tmp_path):
    import shutil

    takeout = tmp_path / "Takeout"
    shutil.copytree(GOOGLE_VOICE / "psanford", takeout / "Voice" / "Calls")
    (takeout / "Mail").mkdir()
    (takeout / "Mail" / "All mail.mbox").write_bytes(b"From a@b Mon Jan  1 00:00:00 2024\nSubject: hi\n\nbody\n")
    report = import_calls(workspace, ada.id, takeout)
    assert report.imported == 2
    assert report.rejected == [("Mail/All mail.mbox", "mail or a calendar, not a call log: import it on its own")]


@pytest.mark.parametrize("text,zone,expected", [
    ("2026-11-20 15:04:05 UTC", "Asia/Tokyo", datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)),
    ("Fri, 20 Nov 2026 15:04:05 +0000", "Asia/Tokyo", datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)),
    ("2026-11-20T15:04:05.000Z", "Asia/Tokyo", datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)),
    ("1795340000000", "Asia/Tokyo", datetime.fromtimestamp(1795340000, UTC)),
    ("11/20/2026 7:04 AM", "America/New_York", datetime(2026, 11, 20, 12, 4, tzinfo=UTC)),
    ("2026-03-08 02:30", "America/New_York", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),  # the skipped hour, moved on
])
def test_times_in_exports(text, zone, expected):
    from assistant.importing.calls import read_time

    assert read_time(text, zone) == expected


def test_a_single_ringcentral_record_the_apis_one_record_answer_imports(workspace, ada, tmp_path):
    """Reported: GET …/call-log/{id} answers one record, not records[]: it was "not recognised"."""
    record = json.loads((SAMPLES / "ringcentral-call-log.json").read_text())["records"][0]
    one = tmp_path / "call-log-record.json"
    one.write_text(json.dumps(record))
    assert detect(one) == "ringcentral-json"
    report = import_calls(workspace, ada.id, one)
    assert report.imported == 1 and report.rejected == []
    (call,) = _calls(workspace, ada)
    assert call.number_e164 == "+14155550111" and call.caller_name == "Linus Torvalds"
    assert import_calls(workspace, ada.id, SAMPLES / "ringcentral-call-log.json").imported == 3  # the same call once


# -- big imports: batches of their own, progress, other writers (issue 15, point 7) ---------------------------------------
def _twilio_csv(path: Path, count: int, *, repeat: dict[int, int] | None = None, broken: frozenset[int] = frozenset()):
    """A Twilio console export of ``count`` calls; row ``r`` of ``repeat`` carries the sid of row ``repeat[r]``, the
    rows in ``broken`` have no start time."""
    lines = ["Date Created,Sid,From,To,Direction,Status,Start Time,End Time,Duration,Price,Price Unit,Caller Name"]
    for row in range(1, count + 1):
        when = datetime(2026, 1, 1, tzinfo=UTC).timestamp() + row * 600
        stamp = datetime.fromtimestamp(when, UTC).strftime('"%a, %d %b %Y %H:%M:%S +0000"')
        sid = f"CA{(repeat or {}).get(row, row):032x}"
        lines.append(f"{stamp},{sid},+1415555{row % 10000:04d},+16505550100,inbound,completed,"
                     f"{'' if row in broken else stamp},,{row % 600},-0.0085,USD,Caller {row % 50}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _count(store, principal) -> int:
    return call_store.count_calls(store.scope(principal.id))


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(calls_io, "BATCH_SIZE", 10)
    return 10


@pytest.fixture
def other_store(workspace):
    """The same workspace opened a second time, as the app has it open while ``assistant call import`` runs. It waits
    a quarter of a second for the write lock instead of the store's 30 s: long enough between two batches."""
    other = Store(workspace.dir)
    other.db.execute("PRAGMA busy_timeout=250")
    yield other
    other.close()


def test_other_writes_go_through_while_an_import_reads_its_file(workspace, ada, tmp_path, monkeypatch, small_batches,
                                                                other_store):
    """Reported: the whole import was one transaction, and every other write failed with "database is locked". Now
    the file is read outside any transaction and only a batch's writes hold the lock."""
    path = _twilio_csv(tmp_path / "calls.csv", 35)
    reader = calls_io.read_export
    written = []

    def reading(*args, **kwargs):
        for n, parsed in enumerate(reader(*args, **kwargs), 1):
            if n in (5, 15, 25):  # inside the first, second and third batch
                other_store.add_principal(Principal(name=f"Bob {n}", timezone="Europe/London"))
                call_store.add_call(other_store.scope(ada.id), Call(
                    principal_id=ada.id, direction=CallDirection.OUTGOING, number_raw="+442079460958",
                    started_utc=datetime(2026, 2, 1, tzinfo=UTC)))  # a quick log in the app, say
                written.append(n)
            yield parsed

    monkeypatch.setattr(calls_io, "read_export", reading)
    report = import_calls(workspace, ada.id, path)
    assert written == [5, 15, 25]
    assert (report.imported, report.skipped, report.rejected) == (35, 0, [])
    assert _count(workspace, ada) == 35 + 3
    assert {p.name for p in workspace.principals()} == {"Ada", "Bob 5", "Bob 15", "Bob 25"}


def test_progress_is_reported_after_each_committed_batch(workspace, ada, tmp_path, small_batches, other_store):
    path = _twilio_csv(tmp_path / "calls.csv", 25, repeat={22: 3}, broken=frozenset({12}))
    seen = []

    def progress(p: ImportProgress) -> None:
        # told only once the batch is committed: another connection sees it, and may write at that moment
        seen.append((p.items, p.imported, p.skipped, p.rejected, _count(other_store, ada)))
        other_store.add_principal(Principal(name=f"Bob {p.items}", timezone="Europe/London"))

    report = import_calls(workspace, ada.id, path, progress=progress)
    assert seen == [(10, 10, 0, 0, 10), (20, 19, 0, 1, 19), (25, 23, 1, 1, 23)]
    assert (report.imported, report.skipped) == (23, 1)
    assert report.rejected == [("calls.csv line 13", "no start time")]
    assert len(workspace.principals()) == 4


def test_a_file_of_only_rejections_still_reports_its_progress(workspace, ada, tmp_path, small_batches):
    path = _twilio_csv(tmp_path / "calls.csv", 3, broken=frozenset({1, 2, 3}))
    seen = []
    report = import_calls(workspace, ada.id, path, progress=seen.append)
    assert [(p.items, p.imported, p.rejected) for p in seen] == [(3, 0, 3)] and len(report.rejected) == 3


@pytest.mark.parametrize("where", ["reading", "writing"])
def test_a_crash_keeps_the_committed_batches_and_a_rerun_completes_them_once(workspace, ada, tmp_path, monkeypatch,
                                                                             small_batches, where):
    path = _twilio_csv(tmp_path / "calls.csv", 35, repeat={30: 3})
    if where == "reading":
        reader = calls_io.read_export

        def crashing_reader(*args, **kwargs):
            for n, parsed in enumerate(reader(*args, **kwargs), 1):
                if n == 24:
                    raise RuntimeError("the power went")
                yield parsed

        monkeypatch.setattr(calls_io, "read_export", crashing_reader)
    else:
        add_call, calls_written = call_store.add_call, []

        def crashing_add_call(scope, call):
            calls_written.append(call.source_key)
            if len(calls_written) == 24:
                raise RuntimeError("the power went")
            return add_call(scope, call)

        monkeypatch.setattr(call_store, "add_call", crashing_add_call)
    with pytest.raises(RuntimeError, match="power"):
        import_calls(workspace, ada.id, path)
    assert _count(workspace, ada) == 20  # two batches committed; the third, cut short, left nothing
    monkeypatch.undo()
    monkeypatch.setattr(calls_io, "BATCH_SIZE", small_batches)
    rerun = import_calls(workspace, ada.id, path)
    assert (rerun.imported, rerun.skipped, rerun.rejected) == (14, 21, [])  # row 30 is row 3 again
    again = import_calls(workspace, ada.id, path)
    assert (again.imported, again.skipped) == (0, 35)
    keys = [c.source_key for c in call_store.recent_calls(workspace.scope(ada.id), limit=1000)]
    assert len(keys) == len(set(keys)) == 34
