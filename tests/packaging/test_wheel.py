"""The path a user takes: build the wheel from a copy of the source, install it (not editable) into a fresh virtual
environment outside the checkout, and run the installed ``assistant`` from a folder of its own."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import assistant

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ("assistant", "resources", "pyproject.toml", "setup.py", "README.md")


def _build_wheel(tmp_path: Path) -> Path:
    """``python -m build --wheel`` on a copy of what a clone holds (building in place would leave build/ behind).
    Without isolation: the test environment has setuptools and wheel, and CI need not download them again."""
    source = tmp_path / "clone"
    source.mkdir()
    for name in SOURCE:
        item = ROOT / name
        if item.is_dir():
            shutil.copytree(item, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, source / name)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check",
                    "--outdir", str(dist), str(source)], check=True, capture_output=True, timeout=600)
    wheels = list(dist.glob("assistant-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _fresh_environment(tmp_path: Path, wheel: Path) -> Path:
    """A new venv holding only the installed wheel; its dependencies (PySide6 and the rest, hundreds of MB) are read
    from this test environment's site-packages through a path line, which adds the folder and nothing else — not the
    .pth files there, so an editable install of the checkout stays invisible."""
    venv = tmp_path / "venv"
    # Without PYTHONPATH: the test fixtures put the checkout on it (for their keyring backend), and pip would then
    # find the checkout's package "already installed" and install nothing.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300, env=env)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
                    "-q", str(wheel)], check=True, capture_output=True, timeout=300, env=env)
    assert (venv / "bin" / "assistant").exists(), "pip installed no assistant command"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True, env=env).stdout.strip())
    (site / "zz_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    return venv


@pytest.mark.slow
def test_the_installed_wheel_runs_and_builds_the_demo_outside_the_checkout(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "assistant_resources/icons/assistant.svg" in names
    assert "assistant_resources/demo/messages.json" in names

    venv = _fresh_environment(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}
    command = str(venv / "bin" / "assistant")

    version = subprocess.run([command, "--version"], cwd=elsewhere, env=env, capture_output=True, text=True,
                             timeout=120)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"assistant {assistant.__version__}"

    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import assistant, assistant.core.resources as r; print(assistant.__file__);"
                            " print(r.resources_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    module_file, resources_dir = where.stdout.split()
    assert Path(module_file).is_relative_to(venv), "the installed copy, not the checkout"
    assert Path(resources_dir).is_relative_to(venv)
    assert not Path(resources_dir).is_relative_to(ROOT)

    workspace = tmp_path / "demo"
    demo = subprocess.run([command, "--json", "--workspace", str(workspace), "demo", "--no-gui"], cwd=elsewhere,
                          env=env, capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr
    built = json.loads(demo.stdout)
    assert len(built["principals"]) == 3
    assert all(p["messages"] > 100 for p in built["principals"])
    assert (workspace / "workspace.sqlite3").is_file()
