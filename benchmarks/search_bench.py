"""2. Search: twenty fixed queries through the store in-process, as whole commands beside notmuch, hit counts compared.

What "a search" is here: what a user sees first — the 50 newest matching messages and how many match in all. In-process
that is ``PrincipalScope.search_messages`` (the function the inbox's search box calls) plus ``count_messages``, timed
two ways: over every principal (what ``assistant search`` does: each principal's 50 newest merged, counts summed — all
100,000 messages at the default size) and for one principal as the search box asks (its 500 newest, ``SEARCH_LIMIT`` in
``assistant/ui/main_window.py``). Whole commands, interpreter start included, interleaved A, B, A, B:
``assistant search Q`` (50 newest messages, every principal) beside ``notmuch search --limit=50 Q`` (50 newest threads),
and ``assistant search --count Q`` beside ``notmuch count Q``. notmuch runs with ``TZ=UTC`` so its dates read as ours.

Hit counts: our total (messages) must equal ``notmuch count`` (messages) for every query. The queries use only what both
engines read the same way (see :data:`QUERIES`); where the generator's manifest knows a count, ours is checked against it
too, so the check means something without notmuch.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.store import mail as mail_store
from benchmarks import generate  # noqa: E402
from benchmarks.common import Context, Row, median, percentile, substep  # noqa: E402

SECTION = "2. Search"
PAGE = 50  # what the command prints by default; the first page a user reads
SEARCH_BOX_LIMIT = 500  # assistant/ui/main_window.py SEARCH_LIMIT (importing it would start Qt)


@dataclass(frozen=True)
class Query:
    kind: str  # what it exercises
    ours: str  # in our language (assistant/search.py)
    notmuch: str  # the same question in notmuch's
    manifest_term: str = ""  # the generator's count of messages holding this marker or phrase, summed over principals
    differs: str = ""  # why notmuch's count is not expected to equal ours (then both are shown, not compared)


_TOP_SENDER = generate.SENDERS["daniel-brooks"][0][1]  # the first principal's most frequent correspondent
_OTHER_SENDER = generate.SENDERS["amara-okafor"][3][1]  # a less frequent one of the second principal

# Chosen so both engines read them alike: notmuch stems English words and SQLite's FTS does not, so words are the
# generator's base forms (no two share a stem) or its made-up markers; none of them occurs in names, addresses or
# attachment file names (notmuch indexes those, we do not); notmuch keeps diacritics where we fold them, so the accented
# words are ones the text only ever spells one way; CJK text is one token to notmuch and bigrams to us, so CJK queries
# are whole strings the generator inserts between spaces. Dates: our ``before:`` is exclusive, notmuch's range end
# inclusive (to the end of that day), both in UTC.
# And one difference that is notmuch's: GMime drops an RFC 2047 encoded-word that follows one ending in base64 padding
# ("=?utf-8?b?SGVsbG8gdGg=?= =?utf-8?b?5p2x5Lqs6aeF?=" reads "Hello th", not "Hello th東京駅"), so the end of some long
# non-ASCII subjects is not in its index. Queries that meet such subjects are counted on both sides, shown, not compared;
# ours are checked against the generator's manifest where it has the count.
_GMIME_SUBJECTS = ("notmuch (GMime) drops an RFC 2047 encoded-word that follows one ending in base64 padding, so the end"
                   " of some long non-ASCII subjects is not in its index; Python's email package joins them as RFC 2047"
                   " says")
QUERIES: tuple[Query, ...] = (
    Query("rare word", "zorblax", "zorblax", "zorblax"),
    Query("rare word", "vantrook", "vantrook", "vantrook"),
    Query("word, ~1%", "quintrel", "quintrel", "quintrel"),
    Query("word, ~5%", "brastok", "brastok", "brastok"),
    Query("common word", "garden", "garden"),
    Query("common word", "coffee", "coffee"),
    Query("two words", "brastok grindalf", "brastok and grindalf"),
    Query("two common words", "garden coffee", "garden and coffee"),
    Query("phrase", '"amber lantern"', '"amber lantern"', "amber lantern"),
    Query("phrase", '"copper meridian"', '"copper meridian"', "copper meridian"),
    Query("from: address", f"from:{_TOP_SENDER}", f"from:{_TOP_SENDER}"),
    Query("from: address", f"from:{_OTHER_SENDER}", f"from:{_OTHER_SENDER}"),
    Query("subject: word", "subject:koltrave", "subject:koltrave", "koltrave", differs=_GMIME_SUBJECTS),
    Query("date range", "after:2025-03-01 before:2025-04-01", "date:2025-03-01..2025-03-31"),
    Query("word and date", "quintrel after:2026-01-01", "quintrel and date:2026-01-01.."),
    Query("from: and word", f"from:{_TOP_SENDER} garden", f"from:{_TOP_SENDER} and garden"),
    Query("non-ASCII word", "München", "München"),
    Query("CJK word", "東京駅", "東京駅", differs=_GMIME_SUBJECTS),
    Query("no hits", "xylophonequark", "xylophonequark"),
    Query("no hits (date)", "zorblax before:2024-01-01", "zorblax and date:..2023-12-31"),
)


# -- our side ---------------------------------------------------------------------------------------------------------
def search_everyone(store, principals, query: str, limit: int = PAGE) -> tuple[list, int]:
    """What ``assistant search`` does in-process (its page: each principal asked only for messages newer than the page
    held so far), and what ``assistant search --count`` adds up."""
    hits, total = [], 0
    for p in principals:
        scope = store.scope(p.id)
        oldest = hits[-1].date_utc if len(hits) == limit else None
        hits += mail_store.search_messages(scope, query, limit, newer_than=oldest if oldest and oldest.timestamp() > 0 else None)
        hits.sort(key=lambda m: m.date_utc.timestamp() if m.date_utc else 0, reverse=True)
        del hits[limit:]
        total += mail_store.count_messages(scope, query)
    return hits, total


def our_counts(workspace: Path) -> dict[str, int]:
    """Messages matching each query, every principal, through the store."""
    from assistant.store import Store

    store = Store(workspace, create=False)
    try:
        principals = store.principals()
        return {q.ours: sum(mail_store.count_messages(store.scope(p.id), q.ours) for p in principals) for q in QUERIES}
    finally:
        store.close()


def manifest_counts(manifest: dict) -> dict[str, int]:
    """What the generator says, for the queries it can speak for."""
    return {q.ours: sum(p["term_counts"].get(q.manifest_term, 0) for p in manifest["principals"])
            for q in QUERIES if q.manifest_term}


def assistant_command(ctx: Context) -> list[str]:
    """The venv's ``assistant`` entry point (what a user types), else ``python -m assistant``."""
    script = Path(ctx.python).with_name("assistant")
    return [str(script)] if script.is_file() else [ctx.python, "-m", "assistant"]


# -- notmuch's side ---------------------------------------------------------------------------------------------------
def notmuch_env(config: Path) -> dict[str, str]:
    return dict(os.environ, NOTMUCH_CONFIG=str(config), TZ="UTC")


def notmuch_counts(config: Path) -> dict[str, int]:
    env = notmuch_env(config)
    return {q.ours: int(subprocess.run(["notmuch", "count", q.notmuch], env=env, check=True, capture_output=True,
                                       text=True).stdout.strip())
            for q in QUERIES}


def count_mismatches(ours: dict[str, int], theirs: dict[str, int], who: str) -> dict[str, str]:
    """Query -> one line, for each query both sides counted and counted differently."""
    return {q: f"{q}: ours {ours[q]}, {who} {theirs[q]}" for q in ours if q in theirs and ours[q] != theirs[q]}


def comparable(counts: dict[str, int]) -> dict[str, int]:
    """Those of notmuch's counts that should equal ours (see ``Query.differs``)."""
    return {q.ours: counts[q.ours] for q in QUERIES if not q.differs and q.ours in counts}


# -- the section ------------------------------------------------------------------------------------------------------
def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _in_process(ctx: Context, rounds: int) -> list[Row]:
    from assistant.store import Store

    store = Store(ctx.workspace, create=False)
    try:
        principals = store.principals()
        for q in QUERIES:  # warm the page cache and SQLite's, as a running app has it
            search_everyone(store, principals, q.ours)
        everyone: dict[str, list[float]] = {q.ours: [] for q in QUERIES}
        one: dict[str, list[float]] = {q.ours: [] for q in QUERIES}
        cpu: dict[str, list[float]] = {"everyone": [], "one": []}  # this process's CPU: the search without the waits
        for _ in range(rounds):
            for q in QUERIES:
                start, start_cpu = time.perf_counter(), time.process_time()
                search_everyone(store, principals, q.ours)
                everyone[q.ours].append(time.perf_counter() - start)
                cpu["everyone"].append(time.process_time() - start_cpu)
                for p in principals:
                    scope = store.scope(p.id)
                    start, start_cpu = time.perf_counter(), time.process_time()
                    mail_store.search_messages(scope, q.ours, SEARCH_BOX_LIMIT)
                    mail_store.count_messages(scope, q.ours)
                    one[q.ours].append(time.perf_counter() - start)
                    cpu["one"].append(time.process_time() - start_cpu)
    finally:
        store.close()

    def row(figure: str, times: dict[str, list[float]], cpu_times: list[float], how: str) -> Row:
        flat = [t for ts in times.values() for t in ts]
        p95 = percentile(flat, 95)
        slowest = max(times, key=lambda q: percentile(times[q], 95))
        return Row(SECTION, figure, _ms(p95), "ms", "≤ 20 ms", met=p95 <= 0.020,
                   note=f"p50 {_ms(median(flat))} ms; CPU time p50 {_ms(median(cpu_times))} ms, p95"
                        f" {_ms(percentile(cpu_times, 95))} ms; {len(flat)} searches ({how}); slowest query"
                        f" {slowest!r}: p95 {_ms(percentile(times[slowest], 95))} ms")
    messages = ctx.manifest.get("total_messages", 0)
    return [
        row(f"in-process p95, every principal ({messages:,} messages)", everyone, cpu["everyone"],
            f"{len(QUERIES)} queries × {rounds}: each principal's {PAGE} newest merged + total count"),
        row(f"in-process p95, one principal (the search box: {SEARCH_BOX_LIMIT} newest)", one, cpu["one"],
            f"{len(QUERIES)} queries × {len(principals)} principals × {rounds}: search_messages({SEARCH_BOX_LIMIT})"
            " + count_messages"),
    ]


def _run(argv: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}… failed: {' '.join(result.stderr.split())[:300]}")
    return result.stdout


def our_env(ctx: Context) -> dict[str, str]:
    """Bytecode cached, as an installed package has it (pip compiles on install), kept out of the source tree; a
    ``PYTHONDONTWRITEBYTECODE`` in the environment would have every run compile every module again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(ctx.root / "pycache")
    return env


def _commands(ctx: Context, rounds: int) -> tuple[list[Row], dict[str, int]]:
    """Whole commands, interleaved per query; returns the rows and what ``assistant search --count`` printed.

    Each query is run once untimed by both tools first (the page cache, for both), then its search pair and its count
    pair ``rounds`` times each: the count reads only index pages the searches just read, so one warm-up serves both."""
    ours = [*assistant_command(ctx), "--workspace", str(ctx.workspace)]
    our_environment = our_env(ctx)
    with_notmuch = ctx.has_notmuch and ctx.notmuch_config is not None
    env = notmuch_env(ctx.notmuch_config) if with_notmuch else None
    kinds = (
        (f"whole command: assistant search ({PAGE} newest)", ["search"], ["notmuch", "search", f"--limit={PAGE}"]),
        ("whole command: assistant search --count", ["search", "--count"], ["notmuch", "count"]),
    )
    medians_a: list[dict[str, float]] = [{} for _ in kinds]
    medians_b: list[dict[str, float]] = [{} for _ in kinds]
    cli_counts: dict[str, int] = {}
    for q in QUERIES:
        for index, (_label, our_args, their_args) in enumerate(kinds):
            def a(q: Query = q, our_args: list[str] = our_args) -> None:
                out = _run([*ours, *our_args, q.ours], our_environment)
                if "--count" in our_args:
                    cli_counts[q.ours] = int(out.strip())

            def b(q: Query = q, their_args: list[str] = their_args) -> None:
                _run([*their_args, q.notmuch], env)

            if index == 0:
                a()  # once untimed: the page cache, for both
                if with_notmuch:
                    b()
            times_a, times_b = [], []
            for _ in range(rounds):
                times_a.append(_timed(a))
                if with_notmuch:
                    times_b.append(_timed(b))
            medians_a[index][q.ours] = median(times_a)
            if with_notmuch:
                medians_b[index][q.ours] = median(times_b)
    rows: list[Row] = []
    for index, (label, _our_args, _their_args) in enumerate(kinds):
        ours_by_query, theirs_by_query = medians_a[index], medians_b[index]
        typical_a = median(list(ours_by_query.values()))
        slowest = max(ours_by_query, key=ours_by_query.get)
        typical_b = median(list(theirs_by_query.values())) if with_notmuch else None
        rows.append(Row(
            SECTION, label + ", median of the queries' medians", _ms(typical_a), "ms", "≤ 100 ms",
            _ms(typical_b) if typical_b else None, round(typical_a / typical_b, 2) if typical_b else None,
            met=ours_by_query[slowest] <= 0.100,
            note=f"{len(QUERIES)} queries × {rounds} interleaved runs each; met only if the slowest query's median is"
                 f" too: {slowest!r} {_ms(ours_by_query[slowest])} ms"
                 + (f"; notmuch's slowest {_ms(max(theirs_by_query.values()))} ms" if with_notmuch else "")
                 + ("; notmuch prints threads, we print messages" if "count" not in label else ""),
        ))
    floor = median([_timed(lambda: _run([ctx.python, "-c", "pass"], our_environment)) for _ in range(rounds)])
    rows[0].note += f"; the bare interpreter starts in {_ms(floor)} ms here"
    return rows, cli_counts


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(ctx: Context) -> list[Row]:
    if ctx.workspace is None:
        raise RuntimeError("no imported workspace: section 1 (import) builds it")
    rounds = 3 if ctx.small else 5
    with substep("in-process searches"):
        rows = _in_process(ctx, rounds=5)
    with substep("whole commands beside notmuch's"):
        command_rows, cli_counts = _commands(ctx, rounds)
    rows += command_rows

    ours = our_counts(ctx.workspace)
    problems = {q: f"assistant search --count {q!r} printed {cli_counts[q]}, the store counts {ours[q]}"
                for q in ours if cli_counts.get(q, ours[q]) != ours[q]}
    compared = ctx.has_notmuch and ctx.notmuch_config is not None
    others = [count_mismatches(ours, manifest_counts(ctx.manifest), "the generator's manifest")]
    aside = ""
    if compared:
        theirs = notmuch_counts(ctx.notmuch_config)
        others.append(count_mismatches(ours, comparable(theirs), "notmuch"))
        apart = [q for q in QUERIES if q.differs]
        aside = ("not compared: " + ", ".join(f"{q.ours} (ours {ours[q.ours]}, notmuch {theirs[q.ours]})" for q in apart)
                 + f": {apart[0].differs}") if apart else ""
    for found in others:
        for q, line in found.items():
            problems[q] = f"{problems[q]}; {line}" if q in problems else line
    checked = len(QUERIES) - (sum(1 for q in QUERIES if q.differs) if compared else 0)
    rows.append(Row(
        SECTION, "hit counts equal to notmuch count" if compared else "hit counts (no notmuch: against the manifest)",
        checked - len(problems), f"of {checked}", f"{checked} of {checked}", met=not problems,
        note="; ".join([*problems.values(), aside] if problems else
                       [f"all equal ({sum(ours.values()):,} hits over the queries)", aside]).strip("; "),
    ))
    return rows


if __name__ == "__main__":  # this section alone, on the last complete import: benchmarks/search_bench.py [--small]
    from benchmarks import import_bench
    from benchmarks import run as run_module

    small = "--small" in sys.argv
    root = generate.workload_dir(small)
    manifest = generate.load_manifest(root)
    if manifest is None:
        sys.exit("no workload: run benchmarks/run.py first")
    context = run_module.build_context(small, manifest, root)
    if not import_bench.reuse(context):
        sys.exit("no complete import: run benchmarks/run.py first")
    print(run_module.format_table(run(context)))
