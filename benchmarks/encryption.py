"""8. Encryption: what SQLCipher costs — the same mail imported, searched and opened in a plain and an encrypted workspace.

The encrypted workspace's key is in a real Secret Service, as on a user's desktop: when this process has no secure
credential store, the section runs itself again inside a D-Bus session of its own with an unlocked gnome-keyring and a
throwaway HOME (as ``tests/core/test_credentials_secret_service.py`` does). Imports, command-line searches and launches
are whole ``assistant`` processes, so they include reading the key from the Secret Service; the in-app search runs on
one open store per workspace, as the window's does. Plain and encrypted take turns, so the machine's noise falls on
both.

    .venv/bin/python -m benchmarks.run --only encryption [--small]
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import Context, Row, median  # noqa: E402

SECTION = "8. Encryption"
PRINCIPALS = 2  # the first principals of the workload, imported into both workspaces
SEARCH_ROUNDS = 9
CLI_SEARCHES = 5
LAUNCHES = 3
MODES = ("plain", "encrypted")


def run(ctx: Context) -> list[Row]:
    from assistant.store import db

    base = (Path(os.environ["BENCH_RUN_DIR"]) if os.environ.get("BENCH_RUN_DIR") else ctx.root / "run") / "encryption"
    if db.secure_store_available():
        return measure(ctx.root, base)
    return _in_secret_service(ctx.root, base)


def _in_secret_service(root: Path, base: Path) -> list[Row]:
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"no secure credential store here, and {' and '.join(missing)} is missing to start one")
    with tempfile.TemporaryDirectory(prefix="assistant-bench-keyring-") as tmp:
        home, runtime, out = Path(tmp) / "home", Path(tmp) / "runtime", Path(tmp) / "rows.json"
        for folder in (home, runtime):
            folder.mkdir(mode=0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XDG_", "PYTHON_KEYRING", "GNOME_KEYRING"))}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), PYTHONPATH=str(ROOT))
        script = ("echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "
                  f'exec "{sys.executable}" "{Path(__file__)}" "{root}" "{base}" "{out}"')
        done = subprocess.run(["dbus-run-session", "--", "bash", "-c", script], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=None, timeout=3 * 3600)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"the encryption section inside its Secret Service failed (exit {done.returncode})")
        return [Row(**r) for r in json.loads(out.read_text(encoding="utf-8"))]


def _assistant(workspace: Path, *args: str) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "assistant", "--workspace", str(workspace), "--json", *args],
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"assistant {' '.join(args[:2])} failed: {done.stderr.strip()[:300]}")
    return elapsed, json.loads(done.stdout)


def _launch(workspace: Path) -> float:
    """Seconds from starting ``assistant`` to the first painted inbox (benchmarks/ui_probe.py), with the session bus
    kept so the app can read its key."""
    from benchmarks.ui_bench import PROBE, child_env

    with tempfile.TemporaryDirectory(prefix="assistant-enc-bench-") as config:
        env = child_env(Path(config))
        if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
            env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
        launched = time.monotonic()
        done = subprocess.run([sys.executable, str(PROBE), "open", str(workspace)], env=env, capture_output=True,
                              text=True, timeout=300)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"error": done.stderr.strip()[-300:]}
    if "error" in result:
        raise RuntimeError(f"ui probe: {result['error']}")
    return float(result["first_paint"]) - launched


def _change(plain: float, encrypted: float, higher_is_better: bool) -> str:
    if not plain:
        return ""
    cost = (plain / encrypted - 1) if higher_is_better else (encrypted / plain - 1)
    return f"plain {plain:,.3g}; encryption costs {cost * 100:+.0f} %"


def measure(root: Path, base: Path) -> list[Row]:
    from assistant.core import timezones
    from assistant.domain import Principal
    from assistant.store import Store, db
    from assistant.store import mail as mail_store

    timezones.configure()
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    principals = manifest["principals"][:PRINCIPALS]
    spaces = {mode: base / mode for mode in MODES}
    for mode, workspace in spaces.items():
        shutil.rmtree(workspace, ignore_errors=True)
        store = Store(workspace, encrypt=mode == "encrypted")
        for p in principals:
            store.add_principal(Principal(name=p["name"], timezone=p["timezone"], addresses=list(p["addresses"]),
                                          region=p["region"]))
        store.close()
        assert db.is_encrypted(workspace / db.DB_NAME) is (mode == "encrypted"), mode

    # Import: each principal's maildir into both, taking turns at going first.
    seconds = dict.fromkeys(MODES, 0.0)
    messages = sum(p["messages"] for p in principals)
    for index, p in enumerate(principals):
        for mode in (MODES if index % 2 == 0 else MODES[::-1]):
            elapsed, report = _assistant(spaces[mode], "import", str(root / p["maildir"]), "--principal", p["name"])
            if report["imported"] != p["messages"]:
                raise RuntimeError(f"{mode}: imported {report['imported']} of {p['messages']}")
            seconds[mode] += elapsed
        print(f"    imported {p['name']} into both", file=sys.stderr, flush=True)
    rate = {mode: messages / seconds[mode] for mode in MODES}
    sizes = {mode: sum(f.stat().st_size for f in spaces[mode].iterdir() if f.is_file()) / 2**20 for mode in MODES}

    # Search in the app: one open store each, every marker word and phrase, the first page of results.
    queries = [*manifest["markers"], *(f'"{phrase}"' for phrase in manifest["phrases"])]
    stores = {mode: Store(spaces[mode], create=False) for mode in MODES}
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    try:
        scopes = {mode: [stores[mode].scope(p.id) for p in stores[mode].principals()] for mode in MODES}
        for round_ in range(SEARCH_ROUNDS):
            for mode in (MODES if round_ % 2 == 0 else MODES[::-1]):
                for scope in scopes[mode]:
                    for query in queries:
                        start = time.perf_counter()
                        mail_store.search_messages(scope, query, limit=50)
                        times[mode].append(time.perf_counter() - start)
    finally:
        for store in stores.values():
            store.close()
    search_ms = {mode: median(times[mode]) * 1000 for mode in MODES}

    # Search from the command line and launch: whole processes, the key read from the credential store each time.
    word = next(iter(manifest["markers"]))
    cli: dict[str, list[float]] = {mode: [] for mode in MODES}
    launches: dict[str, list[float]] = {mode: [] for mode in MODES}
    for mode in MODES:
        _launch(spaces[mode])  # warm-up: compiled modules, the disk cache
    for round_ in range(max(CLI_SEARCHES, LAUNCHES)):
        for mode in (MODES if round_ % 2 == 0 else MODES[::-1]):
            if round_ < CLI_SEARCHES:
                cli[mode].append(_assistant(spaces[mode], "search", word, "--limit", "50")[0])
            if round_ < LAUNCHES:
                launches[mode].append(_launch(spaces[mode]))
    cli_s = {mode: median(cli[mode]) for mode in MODES}
    launch_s = {mode: median(launches[mode]) for mode in MODES}

    def row(figure: str, values: dict[str, float], unit: str, higher_is_better: bool, note: str) -> Row:
        return Row(SECTION, figure, round(values["encrypted"], 3), unit,
                   note=f"{_change(values['plain'], values['encrypted'], higher_is_better)}; {note}")

    return [
        row(f"import of {messages:,} messages, encrypted", rate, "msg/s", True,
            f"{len(principals)} maildirs, whole `assistant import` processes"),
        row("search in the app (first page), encrypted", search_ms, "ms", False,
            f"median of {len(times['encrypted'])} searches: {len(queries)} words and phrases × {len(principals)} principals"),
        row("`assistant search` (whole process), encrypted", cli_s, "s", False, f"median of {CLI_SEARCHES}"),
        row("launch to first painted inbox, encrypted", launch_s, "s", False, f"median of {LAUNCHES} launches"),
        row("workspace on disk, encrypted", sizes, "MB", False, "database and write-ahead log"),
    ]


if __name__ == "__main__":  # the section inside its own Secret Service: WORKLOAD_ROOT RUN_DIR OUT_JSON
    workload, run_dir, out_file = (Path(a) for a in sys.argv[1:4])
    result = measure(workload, run_dir)
    out_file.write_text(json.dumps([r.as_dict() for r in result]), encoding="utf-8")
