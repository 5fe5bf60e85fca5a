"""The benchmark workload: the same bytes every time, and everything in it readable by ``assistant import``."""
from __future__ import annotations

import json
from pathlib import Path

from assistant.cli import main as cli
from assistant.store import mail as mail_store
from benchmarks import generate

BODY_MARKERS = [m for m, spec in generate.MARKERS.items() if spec["where"] == "body"]  # subjects may be RFC 2047


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_arguments_give_the_same_bytes(tmp_path):
    first = generate.generate(out=tmp_path / "a", principals=2, messages=30, quiet=True)
    second = generate.generate(out=tmp_path / "b", principals=2, messages=30, quiet=True)
    assert first == second
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert len(a) > 60
    assert a == b


def test_a_complete_workload_is_not_built_again_and_an_incomplete_one_is(tmp_path):
    root = tmp_path / "w"
    generate.generate(out=root, principals=1, messages=10, quiet=True)
    manifest = root / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    generate.generate(out=root, principals=1, messages=10, quiet=True)
    assert manifest.stat().st_mtime_ns == stamp
    next((root / "daniel-brooks" / "mail" / "cur").iterdir()).unlink()
    assert generate.load_manifest(root) is None
    generate.generate(out=root, principals=1, messages=10, quiet=True)
    assert generate.load_manifest(root) is not None


def _import(workspace: Path, path: Path, principal: str, capsys) -> dict:
    capsys.readouterr()
    assert cli.main(["--workspace", str(workspace), "--json", "import", str(path), "--principal", principal]) == 0
    return json.loads(capsys.readouterr().out)


def test_assistant_import_reads_every_generated_file(tmp_path, capsys):
    root = tmp_path / "w"
    manifest = generate.generate(out=root, principals=2, messages=30, quiet=True)
    workspace = tmp_path / "ws"
    for p in manifest["principals"]:
        assert cli.main(["--workspace", str(workspace), "principal", "add", p["name"], "--email", p["addresses"][0],
                         "--timezone", p["timezone"], "--region", p["region"]]) == 0
        expected = {"maildir": p["messages"], "calendar": p["calendar_counts"]["events"], "call_log": p["calls"],
                    "board": p["tasks"]}
        for key, count in expected.items():
            report = _import(workspace, root / p[key], p["name"], capsys)
            assert (report["imported"], report["skipped"], report["rejected"], report["warnings"]) == (count, 0, [], [])
    from assistant.store import Store

    store = Store(workspace, create=False)
    try:
        for principal in store.principals():
            entry = next(p for p in manifest["principals"] if p["name"] == principal.name)
            assert mail_store.message_count(store.scope(principal.id)) == entry["messages"] == 30
    finally:
        store.close()


def test_body_marker_counts_in_the_manifest_are_what_the_files_hold(tmp_path):
    root = tmp_path / "w"
    manifest = generate.generate(out=root, principals=1, messages=300, quiet=True)
    entry = manifest["principals"][0]
    holding: dict[str, int] = {}
    for path in (root / entry["maildir"]).rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace").lower()
            for marker in BODY_MARKERS:
                if marker in text:
                    holding[marker] = holding.get(marker, 0) + 1
    counted = {m: n for m, n in entry["term_counts"].items() if m in BODY_MARKERS}
    assert counted == holding
    assert sum(counted.values()) > 0
