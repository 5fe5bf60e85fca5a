"""The search benchmark's queries on a tiny generated workload: each one ours, and the counts agree with what can check them
(the generator's manifest always; notmuch when it is installed)."""
import shutil
import subprocess

from assistant.cli import main as cli
from assistant.store.search import parse
from benchmarks import generate, search_bench
from benchmarks.import_bench import write_notmuch_config


def test_every_query_is_in_our_language_and_asks_what_its_kind_says():
    assert len(search_bench.QUERIES) == 20
    for q in search_bench.QUERIES:
        parsed = parse(q.ours)
        if "from:" in q.kind:
            assert parsed.sender
        if "subject:" in q.kind:
            assert parsed.subject and not parsed.words
        if "date" in q.kind:
            assert parsed.before or parsed.after
        if "phrase" in q.kind:
            assert len(parsed.words) == 1 and " " in parsed.words[0]
        if "two" in q.kind:
            assert len(parsed.words) == 2


def test_hit_counts_agree_on_a_tiny_workload(tmp_path):
    root = tmp_path / "workload"
    manifest = generate.generate(out=root, principals=2, messages=100, quiet=True)
    workspace = tmp_path / "ws"
    for p in manifest["principals"]:
        assert cli.main(["--workspace", str(workspace), "principal", "add", p["name"], "--email", p["addresses"][0],
                         "--timezone", p["timezone"], "--region", p["region"]]) == 0
        assert cli.main(["--workspace", str(workspace), "import", str(root / p["maildir"]), "--principal",
                         p["name"]]) == 0

    ours = search_bench.our_counts(workspace)
    assert set(ours) == {q.ours for q in search_bench.QUERIES}
    assert sum(1 for n in ours.values() if n) >= 10  # the tiny workload still has hits for most queries
    expected = search_bench.manifest_counts(manifest)
    assert expected and sum(expected.values()) > 0
    assert search_bench.count_mismatches(ours, expected, "manifest") == {}

    if shutil.which("notmuch"):  # installed: the whole comparison, as the benchmark makes it
        mail_root = tmp_path / "notmuch-mail"
        mail_root.mkdir()
        for p in manifest["principals"]:
            (mail_root / p["slug"]).symlink_to(root / p["maildir"], target_is_directory=True)
        config = tmp_path / "notmuch-config"
        write_notmuch_config(config, mail_root)
        subprocess.run(["notmuch", "new", "--quiet"], env=search_bench.notmuch_env(config), check=True,
                       capture_output=True)
        theirs = search_bench.comparable(search_bench.notmuch_counts(config))
        assert len(theirs) == len(search_bench.QUERIES) - 2  # all but two (Query.differs says why)
        assert search_bench.count_mismatches(ours, theirs, "notmuch") == {}
