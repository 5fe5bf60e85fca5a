"""The app's data files (icons, demo sources, translations), installed as the package ``assistant_resources``.

In a checkout this folder is ``resources/`` at the repository's root; a wheel (pyproject.toml, ``package-dir``) and the
standalone bundle carry it as ``assistant_resources``. Code finds it through ``assistant.core.resources`` only.
"""
