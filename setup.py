"""The package list, which pyproject.toml cannot say: assistant's packages, and ``resources/`` installed as the
package ``assistant_resources`` (found by ``assistant/core/resources.py``). Everything else is in pyproject.toml."""
from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["assistant", "assistant.*"]), "assistant_resources"],
    package_dir={"assistant_resources": "resources"},
)
