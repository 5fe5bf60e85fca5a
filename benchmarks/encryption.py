"""8. Encryption: what SQLCipher costs — the same mail imported, searched and opened in a plain and an encrypted workspace.

The encrypted workspace's key is in a real Secret Service, as on a user's desktop: when this process has no secure
credential store, the section runs itself again inside a D-Bus session of its own with an unlocked gnome-keyring and a
throwaway HOME (as ``tests/core/test_credentials_secret_service.py`` does). Imports, command-line searches and launches
are whole ``assistant`` processes, so they include reading the key from the Secret Service; the in-app search runs on
one open store per workspace, as the window's does. Plain and encrypted take turns, so the machine's noise falls on
both. In a run with section 1, the imports are taken there (:class:`SideBySide`): its timed plain imports of the same
maildirs are this section's plain ones.

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

    base = encryption_dir(ctx)
    prepared = ctx.prepared.get("encryption")
    if db.secure_store_available():
        return measure(ctx.root, base)
    return _in_secret_service(ctx.root, base, prepared if isinstance(prepared, dict) else None)


def encryption_dir(ctx: Context) -> Path:
    return (Path(os.environ["BENCH_RUN_DIR"]) if os.environ.get("BENCH_RUN_DIR") else ctx.root / "run") / "encryption"


def secret_service_missing() -> list[str]:
    """What is missing here to start a Secret Service of the section's own (nothing: it can)."""
    return [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]


def in_secret_service(keyring_root: Path, argv: list[str], timeout_s: float) -> subprocess.CompletedProcess:
    """Run ``argv`` in a D-Bus session of its own with an unlocked gnome-keyring and a HOME under ``keyring_root``.
    The keyring is kept on disk there, so a key one session stores (creating the encrypted workspace) is read by the
    next (importing into it, measuring it)."""
    home = keyring_root / "home"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The daemon's sockets go in a runtime folder of this session's own: one a session before left may still be
    # shutting down in the old one.
    with tempfile.TemporaryDirectory(prefix="assistant-bench-runtime-") as runtime:
        os.chmod(runtime, 0o700)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("DBUS_", "XDG_", "PYTHON_KEYRING", "GNOME_KEYRING"))}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=runtime, PYTHONPATH=str(ROOT))
        script = 'echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"'
        return subprocess.run(["dbus-run-session", "--", "bash", "-c", script, "bash", *argv], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=None, timeout=timeout_s)


def _in_secret_service(root: Path, base: Path, prepared: dict | None = None) -> list[Row]:
    missing = secret_service_missing()
    if missing:
        raise RuntimeError(f"no secure credential store here, and {' and '.join(missing)} is missing to start one")
    with tempfile.TemporaryDirectory(prefix="assistant-bench-keyring-") as tmp:
        out = Path(tmp) / "rows.json"
        args = [sys.executable, str(Path(__file__)), str(root), str(base), str(out)]
        if prepared:
            args.append(json.dumps(prepared))
        # Section 1's encrypted workspace has its key in the keyring kept under ``base``; a fresh one otherwise.
        keyring_root = Path(prepared["keyring"]) if prepared else Path(tmp) / "keyring"
        done = in_secret_service(keyring_root, args, timeout_s=3 * 3600)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"the encryption section inside its Secret Service failed (exit {done.returncode})")
        return [Row(**r) for r in json.loads(out.read_text(encoding="utf-8"))]


class SideBySide:
    """The encrypted half of this section's import comparison, run by section 1 (``benchmarks/import_bench.py``) beside
    its own timed plain imports of the same maildirs, taking turns with them: those plain imports are exactly this
    section's (the same command, into a workspace holding the same principals and messages), so they need not be run
    twice. Section 1 copies its workspace once the first ``PRINCIPALS`` are imported (before any other principal is
    added): that copy is the plain workspace here. Without a Secret Service of our own to start (or with one of the
    machine's), this section does all of it itself."""

    def __init__(self, ctx: Context, principals: list[dict]):
        self.root = ctx.root
        self.base = encryption_dir(ctx)
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        self.keyring = self.base / "keyring"
        self.principals = principals[:PRINCIPALS]
        self.seconds = 0.0
        self.imported: list[str] = []
        done = in_secret_service(self.keyring, [sys.executable, str(Path(__file__)), "--create", str(self.root),
                                                str(self.base / "encrypted")], timeout_s=300)
        if done.returncode != 0:
            raise RuntimeError(f"could not create the encrypted workspace (exit {done.returncode})")

    @staticmethod
    def possible() -> bool:
        from assistant.store import db

        return not secret_service_missing() and not db.secure_store_available()

    def wants(self, principal: dict) -> bool:
        return principal["name"] in {p["name"] for p in self.principals} and principal["name"] not in self.imported

    def import_principal(self, principal: dict) -> float:
        done = in_secret_service(self.keyring, [sys.executable, str(Path(__file__)), "--import", str(self.root),
                                                str(self.base / "encrypted"), principal["name"]], timeout_s=3600)
        lines = [line for line in (done.stdout or "").splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"encrypted import of {principal['name']} failed (exit {done.returncode})")
        elapsed = float(json.loads(lines[-1])["seconds"])
        self.seconds += elapsed
        self.imported.append(principal["name"])
        return elapsed

    def keep_plain(self, workspace: Path) -> None:
        """Copy section 1's workspace, now holding exactly the first principals' mail, as the plain workspace."""
        shutil.copytree(workspace, self.base / "plain")

    def state(self, plain_seconds: float) -> dict | None:
        if len(self.imported) != len(self.principals) or not (self.base / "plain").is_dir():
            return None
        return {"keyring": str(self.keyring), "seconds": {"plain": plain_seconds, "encrypted": self.seconds}}


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


def _create(workspace: Path, principals: list[dict], encrypted: bool) -> None:
    from assistant.domain import Principal
    from assistant.store import Store, db

    shutil.rmtree(workspace, ignore_errors=True)
    store = Store(workspace, encrypt=encrypted)
    for p in principals:
        store.add_principal(Principal(name=p["name"], timezone=p["timezone"], addresses=list(p["addresses"]),
                                      region=p["region"]))
    store.close()
    assert db.is_encrypted(workspace / db.DB_NAME) is encrypted, workspace


def _import(root: Path, workspace: Path, p: dict) -> float:
    elapsed, report = _assistant(workspace, "import", str(root / p["maildir"]), "--principal", p["name"])
    if report["imported"] != p["messages"]:
        raise RuntimeError(f"{workspace.name}: imported {report['imported']} of {p['messages']}")
    return elapsed


def measure(root: Path, base: Path, prepared: dict | None = None) -> list[Row]:
    """The section; with ``prepared`` (section 1 imported both workspaces, see :class:`SideBySide`) from the search on."""
    from assistant.core import timezones
    from assistant.store import Store, db
    from assistant.store import mail as mail_store

    section_started = time.perf_counter()
    timezones.configure()
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    principals = manifest["principals"][:PRINCIPALS]
    spaces = {mode: base / mode for mode in MODES}
    messages = sum(p["messages"] for p in principals)
    if prepared:
        seconds = {mode: float(prepared["seconds"][mode]) for mode in MODES}
        for mode, workspace in spaces.items():
            assert db.is_encrypted(workspace / db.DB_NAME) is (mode == "encrypted"), mode
        where = "section 1's timed imports, the plain and the encrypted one of each maildir one after the other"
    else:
        for mode, workspace in spaces.items():
            _create(workspace, principals, mode == "encrypted")
        # Import: each principal's maildir into both, taking turns at going first.
        seconds = dict.fromkeys(MODES, 0.0)
        for index, p in enumerate(principals):
            for mode in (MODES if index % 2 == 0 else MODES[::-1]):
                seconds[mode] += _import(root, spaces[mode], p)
            print(f"    imported {p['name']} into both", file=sys.stderr, flush=True)
        where = "taking turns at going first"
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

    print(f"    imports and in-app searches done: {time.perf_counter() - section_started:.0f} s", file=sys.stderr,
          flush=True)
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
    print(f"    command-line searches and launches done: {time.perf_counter() - section_started:.0f} s",
          file=sys.stderr, flush=True)
    cli_s = {mode: median(cli[mode]) for mode in MODES}
    launch_s = {mode: median(launches[mode]) for mode in MODES}

    def row(figure: str, values: dict[str, float], unit: str, higher_is_better: bool, note: str) -> Row:
        return Row(SECTION, figure, round(values["encrypted"], 3), unit,
                   note=f"{_change(values['plain'], values['encrypted'], higher_is_better)}; {note}")

    return [
        row(f"import of {messages:,} messages, encrypted", rate, "msg/s", True,
            f"{len(principals)} maildirs, whole `assistant import` processes ({where})"),
        row("search in the app (first page), encrypted", search_ms, "ms", False,
            f"median of {len(times['encrypted'])} searches: {len(queries)} words and phrases × {len(principals)} principals"),
        row("`assistant search` (whole process), encrypted", cli_s, "s", False, f"median of {CLI_SEARCHES}"),
        row("launch to first painted inbox, encrypted", launch_s, "s", False, f"median of {LAUNCHES} launches"),
        row("workspace on disk, encrypted", sizes, "MB", False, "database and write-ahead log"),
    ]


if __name__ == "__main__":  # inside the section's own Secret Service, see in_secret_service
    if sys.argv[1] == "--create":  # WORKLOAD_ROOT WORKSPACE: the encrypted workspace with the first principals
        from assistant.core import timezones

        timezones.configure()
        workload = Path(sys.argv[2])
        manifest = json.loads((workload / "manifest.json").read_text(encoding="utf-8"))
        _create(Path(sys.argv[3]), manifest["principals"][:PRINCIPALS], encrypted=True)
    elif sys.argv[1] == "--import":  # WORKLOAD_ROOT WORKSPACE PRINCIPAL: one timed `assistant import`, as JSON
        workload = Path(sys.argv[2])
        manifest = json.loads((workload / "manifest.json").read_text(encoding="utf-8"))
        principal = next(p for p in manifest["principals"] if p["name"] == sys.argv[4])
        print(json.dumps({"seconds": _import(workload, Path(sys.argv[3]), principal)}))
    else:  # the section: WORKLOAD_ROOT RUN_DIR OUT_JSON [PREPARED_JSON]
        workload, run_dir, out_file = (Path(a) for a in sys.argv[1:4])
        result = measure(workload, run_dir, json.loads(sys.argv[4]) if len(sys.argv) > 4 else None)
        out_file.write_text(json.dumps([r.as_dict() for r in result]), encoding="utf-8")
