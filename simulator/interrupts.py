"""Ctrl-C is never lost: an interrupt Python would drop is delivered again, one it wraps is recognised.

Python's SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread happens to be. When
that is a weakref callback or a ``__del__`` (the import system runs such a callback for every
module lock it drops), Python cannot raise it there: it prints ``Exception ignored in: ...`` with a
traceback and goes on, so the Ctrl-C is gone and the command runs to its end with exit 0. Seen in
CI: ``archsim run`` interrupted 0.08 s after start-up, while it imported its command line.

While the command line imports, :mod:`simulator.entry` only records a Ctrl-C. Once
:func:`simulator.cli.main` runs, :func:`watch` installs a
:data:`sys.unraisablehook` that, for a dropped ``KeyboardInterrupt``, prints nothing and sends
SIGINT to the main thread again 10 ms later, when it is back in ordinary code; every other
unraisable error is reported as Python reports it. (:mod:`threading` is imported here, up front:
the hook must not import anything inside the import system.) It also notes every Ctrl-C, so
that an error raised after one (:func:`received`) or caused by one (:func:`caused_by_interrupt`)
ends the command as interrupted: exit 130, one line.
"""

from __future__ import annotations

import signal
import sys
import threading
import time


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` is a Ctrl-C in disguise: a ``KeyboardInterrupt`` among its causes or contexts.

    Python wraps what a class body's ``__set_name__`` raises in ``RuntimeError("Error calling
    __set_name__ ...")``; seen in a full test run here: a Ctrl-C 0.3 s into ``archsim run`` landed
    in pydantic's classes, imported on first use, and ended the run with a traceback and exit 1.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        # ``raise X from None`` (archsim's own "interrupted" exit) says its context is not its cause
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return False


REDELIVERY_DELAY_S = 0.01  #: Long enough for the main thread to leave the callback that dropped the interrupt.

_received: list[float] = []  #: Monotonic times of the SIGINTs received since :func:`watch`.


def watch() -> None:
    """Install both measures (idempotent): the hook that turns a dropped ``KeyboardInterrupt`` into
    a new SIGINT, and a SIGINT handler that notes each Ctrl-C, then raises as Python's does."""
    sys.unraisablehook = _redeliver
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _noting)


def received() -> bool:
    """Whether a Ctrl-C arrived since :func:`watch`: an error raised after it is taken as its
    consequence. pydantic-core builds a schema in Rust and reports a ``KeyboardInterrupt`` raised
    meanwhile as ``SchemaError: ... KeyboardInterrupt:``, text without a cause (seen in a 130-run
    stress test), which :func:`caused_by_interrupt` cannot see."""
    return bool(_received)


def stands_for_interrupt(error: BaseException) -> bool:
    """Whether the command should end as interrupted: ``error`` is a Ctrl-C, is caused by one, or
    came after one (:func:`received`). The one test every handler of the command line uses."""
    return isinstance(error, KeyboardInterrupt) or caused_by_interrupt(error) or received()


def _noting(signum: int, frame) -> None:
    _received.append(time.monotonic())
    signal.default_int_handler(signum, frame)


def _redeliver(unraisable) -> None:
    if unraisable.exc_type is not KeyboardInterrupt:
        sys.__unraisablehook__(unraisable)
        return
    main = threading.main_thread().ident
    timer = threading.Timer(REDELIVERY_DELAY_S, signal.pthread_kill, args=(main, signal.SIGINT))
    timer.daemon = True
    timer.start()
