"""Names as they appear in messages: escaped, shortened, and "did you mean" suggestions.

Every user-facing line quotes names and values the user wrote. They may hold newlines, control
characters or a million characters, so they go through :func:`shown` (one line, at most
:data:`MAX_SHOWN` characters). :func:`did_you_mean` is the one place that picks a suggestion: the
closest known name, never the name itself.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

MAX_SHOWN = 200  #: Characters of a user-written name or value shown in a message, at most.
_LISTED = 12  #: Known names listed after "it has:" at most.


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """``value`` as one printable line of at most ``limit`` characters (``...`` marks a cut)."""
    text = value if isinstance(value, str) else str(value) if isinstance(value, (BaseException, os.PathLike)) else repr(value)
    if len(text) > 4 * limit:  # escape only what can be shown: a 10^6-character name costs nothing
        text = text[: 4 * limit]
        cut = True
    else:
        cut = False
    escaped = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    if len(escaped) > limit or cut:
        return escaped[: limit - 3] + "..."
    return escaped


def quoted(value: object, limit: int = MAX_SHOWN) -> str:
    """``'name'`` for a message, escaped and shortened like :func:`shown`."""
    return f"'{shown(value, limit)}'"


def did_you_mean(name: object, known: Iterable[object], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known`` to ``name``, or ``''``.

    The suggestion is never ``name`` itself (a known name in the wrong place is not a typo), and
    very long names are not compared (nothing sensible is that close to them).
    """
    text = str(name)
    if len(text) > MAX_SHOWN:
        return ""
    candidates = sorted({str(k) for k in known if str(k) != text})
    hint = difflib.get_close_matches(text, candidates, n=1, cutoff=cutoff)
    return f" (did you mean {quoted(hint[0])}?)" if hint else ""


def listing(known: Iterable[object]) -> str:
    """``a, b, c`` of known names for "it has: ...", escaped, at most a dozen (then ``and N more``)."""
    names = [shown(k, 60) for k in known]
    if len(names) > _LISTED:
        return ", ".join(names[:_LISTED]) + f" and {len(names) - _LISTED} more"
    return ", ".join(names)
