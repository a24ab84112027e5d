"""The ``archsim`` console script: Ctrl-C exits 130 with one line from archsim's first line on.

Importing the command line (Typer, Click, Rich, and what they import) takes a few tenths of a
second, before :func:`simulator.cli.main` can catch anything; a Ctrl-C meanwhile would show
Python's ``KeyboardInterrupt`` traceback. This module imports nothing but what the interpreter
has already loaded, and imports the command line inside the ``try`` that turns Ctrl-C into
``interrupted`` and exit code 130, as the command line itself does once it runs (where
:mod:`.interrupts` keeps Python from dropping one). ``python3 -m simulator.cli`` does not come
here (that would be an import cycle): a Ctrl-C while it imports is Python's.

What remains is before this module runs: Python's own start-up (until it installs its SIGINT
handler a Ctrl-C ends the process silently; then, while it imports ``site``, a Ctrl-C can still
show a traceback); the package ``simulator`` itself imports nothing. That window was not
measured.
"""

import _signal  # the interpreter's own signal module, loaded before any script: importing it runs no import machinery
import sys

INTERRUPTED = 130  #: 128 + SIGINT, as shells report it.


def main() -> None:
    """Import and run the command line; Ctrl-C at any moment of it is one line and exit 130.

    While the command line imports, a Ctrl-C is only recorded: raised inside the import system
    (in the weakref callback that drops a module lock) Python would print ``Exception ignored``
    and go on, and the command would run to its end (seen in CI). It is acted on as soon as the
    import is done.
    """
    received: list[int] = []
    try:
        previous = _signal.signal(_signal.SIGINT, lambda signum, frame: received.append(signum))
        try:
            from .cli import main as cli_main
        finally:
            _signal.signal(_signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt
        cli_main()
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    try:
        _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # a second Ctrl-C must not cut this line short
        print("interrupted", file=sys.stderr)
    finally:
        sys.exit(INTERRUPTED)
