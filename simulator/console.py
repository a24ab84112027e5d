"""The two Rich consoles of the ``archsim`` command: results on stdout, progress and warnings on stderr.

A leaf module, so that subcommands registered from other packages (``calibrate``) print through
the same consoles without importing :mod:`simulator.cli`, which imports them.
"""

from __future__ import annotations

import sys

from rich.console import Console

stdout = Console(width=None if sys.stdout.isatty() else 160)  #: Tables and results (wide when captured).
stderr = Console(stderr=True)  #: Progress, warnings and errors.
