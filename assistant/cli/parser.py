"""The commands' argument parser: argparse with our one-line errors. Its own module so that only a command that builds
a parser imports argparse (``format.Parser`` is this class)."""
from __future__ import annotations

import argparse
import sys

PROG = "assistant"  # format.PROG (not imported from there: format hands this class out)


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line after the usage, as argparse does, but with our prefix
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: {message}\n")
