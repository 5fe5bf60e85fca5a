from __future__ import annotations

from datetime import UTC, datetime

import keyring
import keyring.backends.fail
import tzdata

from assistant.cli import doctor
from assistant.domain import Account, AccountStatus, Principal
from assistant.store import Store
from assistant.store.db import connect


def by_name(checks):
    return {c.name: c for c in checks}


def test_qt_check_reports_the_platform_plugin(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    check = doctor.check_qt()
    assert check.ok, check.detail
    assert check.detail.startswith("platform plugin 'offscreen', PySide6 6.")


def test_qt_check_survives_a_platform_qt_cannot_load(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-platform")
    check = doctor.check_qt()
    assert not check.ok
    assert check.detail.startswith("Qt cannot start: ") and "no-such-platform" in check.detail
    assert "\n" not in check.detail


def test_credential_check_secure_and_not():
    check = doctor.check_credentials()
    assert check.ok and check.detail == "tests.keyring_backend.InMemoryKeyring (secure)"
    keyring.set_keyring(keyring.backends.fail.Keyring())
    check = doctor.check_credentials()
    assert not check.ok
    assert check.detail.startswith("keyring.backends.fail.Keyring is not a secure store: install and unlock gnome-keyring")


def test_time_zone_check_names_the_tzdata_version():
    check = doctor.check_time_zones()
    assert check.ok
    assert check.detail == f"tzdata {tzdata.IANA_VERSION}, read from the tzdata package"


def test_missing_workspace(tmp_path):
    [check] = doctor.check_workspace(tmp_path / "absent")
    assert check.name == "database" and not check.ok and "no workspace at" in check.detail
    assert not (tmp_path / "absent").exists()


def test_workspace_from_a_newer_version(tmp_path):
    Store(tmp_path).close()
    db = connect(tmp_path)
    db.execute("PRAGMA user_version=42")
    db.close()
    [check] = doctor.check_workspace(tmp_path)
    assert not check.ok and "schema version 42 is newer" in check.detail


def test_accounts_health(workspace):
    tokyo = workspace.add_principal(Principal(name="Kenji", timezone="Asia/Tokyo", addresses=["k@example.jp"]))
    healthy = workspace.add_account(Account(principal_id=tokyo.id, kind="local", address="k@example.jp"))
    broken = workspace.add_account(Account(principal_id=tokyo.id, kind="carrier-pigeon", address="k@coop"))
    workspace.set_account_status(broken.id, AccountStatus.NEEDS_SIGN_IN, "the sign-in expired", synced=False)
    workspace.db.execute("UPDATE accounts SET last_sync_utc=? WHERE id=?",
                         (int(datetime(2026, 7, 1, 0, 0, tzinfo=UTC).timestamp()), healthy.id))
    checks = by_name(doctor.check_workspace(workspace.dir))
    database = checks["database"]
    assert database.ok and database.detail.startswith(f"integrity ok, schema version {workspace.schema_version()}")
    broken_check = checks[f"account {broken.id} (Kenji, carrier-pigeon k@coop)"]
    assert not broken_check.ok
    assert "status needs-sign-in" in broken_check.detail and "last error: the sign-in expired" in broken_check.detail
    assert "never synced" in broken_check.detail and "no connector for 'carrier-pigeon'" in broken_check.detail
    healthy_check = checks[f"account {healthy.id} (Kenji, local k@example.jp)"]
    assert "last sync 2026-07-01 09:00 JST" in healthy_check.detail


def test_corrupt_database_is_reported_not_raised(tmp_path):
    (tmp_path / "workspace.sqlite3").write_bytes(b"this is not a database" * 100)
    [check] = doctor.check_workspace(tmp_path)
    assert not check.ok and "cannot be read" in check.detail


def test_doctor_takes_a_relative_workspace_and_an_import_account_is_not_a_failure(cli, tmp_path, monkeypatch):
    """Reported: `doctor` with a relative --workspace crashed (a relative path has no file URI), and every workspace
    that had used `assistant import` was reported failing (its "import" account has no connector, by design)."""
    import mailbox

    mailbox.Maildir(tmp_path / "mail", create=True)
    monkeypatch.chdir(tmp_path)
    assert cli.bare("--workspace", "rel", "principal", "add", "Ann", "--timezone", "UTC", "--email", "a@x.example")[0] == 0
    assert cli.bare("--workspace", "rel", "import", "mail", "--principal", "Ann")[0] == 0
    code, out, err = cli.bare("--workspace", "rel", "doctor")
    assert "Traceback" not in err and "ValueError" not in err, err
    assert "database" in out and "integrity ok" in out
    (line,) = [row for row in out.splitlines() if row.startswith("account ")]
    assert " ok " in line and "import" in line and "no connector" not in line


def test_doctor_prints_where_the_log_is(tmp_path, monkeypatch, capsys):
    from assistant.cli.main import main

    monkeypatch.setenv("ASSISTANT_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(doctor, "check_qt", lambda: doctor.Check("Qt platform", True, "offscreen"))
    main(["--workspace", str(tmp_path / "ws"), "doctor"])
    printed = capsys.readouterr().out
    assert str(tmp_path / "logs" / "assistant.log") in printed
    check = doctor.check_log()
    assert check.ok and check.detail == f"{tmp_path / 'logs' / 'assistant.log'} (nothing logged yet)"
