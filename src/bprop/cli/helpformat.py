"""How the ``bprop`` command line's help reads: the parser class whose usage errors are one
line, the help formatter, and the names of the activations and costs the flags take."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from ..activations import ACTIVATIONS
from ..costs import COSTS


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written (their line breaks kept), but a line of prose
    (one that starts unindented) longer than the terminal wrapped at words rather than by
    the terminal mid-word; indented lines (the example commands) are left whole."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=32, width=min(100, terminal_width()))

    def _fill_text(self, text, width, indent):
        lines = []
        for line in text.splitlines():
            if line[:1].isspace():
                lines.append(indent + line)
                continue
            lines += textwrap.wrap(line, width, initial_indent=indent,
                                   subsequent_indent=indent, break_on_hyphens=False,
                                   break_long_words=False) or [""]
        return "\n".join(lines)


def terminal_width():
    """The terminal's width in columns (100 when stdout is not a terminal)."""
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 100


ACT_NAMES = ", ".join(sorted(ACTIVATIONS))
HIDDEN_ACT_NAMES = ", ".join(sorted(n for n, act in ACTIVATIONS.items() if act.elementwise))
COST_NAMES = ", ".join(COSTS)
