"""Where the app's data files are: the one place that knows.

A checkout keeps them in ``resources/`` beside ``assistant/``; an installed wheel (and the standalone bundle) carries
the same folder as the package ``assistant_resources`` (setup.py maps it with ``package_dir``), wherever
site-packages is; the standalone bundle has it as a folder of that name beside its code. The checkout wins when this module runs from one, so a development tree never reads another copy.
"""
from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path

from assistant.core.errors import UserError

PACKAGE = "assistant_resources"


class ResourcesMissing(UserError):
    pass


@cache
def resources_dir() -> Path:
    """The folder holding ``icons/``, ``demo/`` (and ``translations/`` when there are any)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:  # the standalone bundle (`./dev package`): its own copy
        return Path(bundle) / PACKAGE
    here = Path(__file__).resolve()
    checkout = here.parents[2] / "resources"
    if (here.parents[2] / "pyproject.toml").is_file() and (checkout / "__init__.py").is_file():
        return checkout
    spec = importlib.util.find_spec(PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    raise ResourcesMissing(
        f"the app's data files are missing (no package {PACKAGE!r} and no {checkout}): reinstall Assistant"
    )


def resource(*parts: str) -> Path:
    """A file or folder under the resources, e.g. ``resource("icons", "assistant.svg")``."""
    return resources_dir().joinpath(*parts)
