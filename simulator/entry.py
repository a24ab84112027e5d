"""The ``archsim`` console script: Ctrl-C exits 130 with one line from archsim's first line on.

Importing the command line (Typer, Click, Rich, and what they import) takes a few tenths of a
second, before :func:`simulator.cli.main` can catch anything; a Ctrl-C meanwhile would show
Python's ``KeyboardInterrupt`` traceback. This module imports nothing but :mod:`sys` and imports
the command line inside the ``try`` that turns Ctrl-C into ``interrupted`` and exit code 130, as
the command line itself does once it runs. ``python3 -m simulator.cli`` does not come here (that
would be an import cycle): a Ctrl-C while it imports is Python's.

What remains is before this module runs: Python's own start-up (until it installs its SIGINT
handler a Ctrl-C ends the process silently; then, while it imports ``site``, a Ctrl-C can still
show a traceback); the package ``simulator`` itself imports nothing. That window was not
measured.
"""

import sys

INTERRUPTED = 130  #: 128 + SIGINT, as shells report it.


def main() -> None:
    """Import and run the command line; Ctrl-C at any moment of it is one line and exit 130."""
    try:
        from .cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    try:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut this line short
        print("interrupted", file=sys.stderr)
    finally:
        sys.exit(INTERRUPTED)
