"""Reading a text file a user names, bounded: a regular file, under a size cap, in UTF-8.

Scenario files and the files they reference (start-up profiles) are read through here, so a path
to a device (``/dev/zero``), a folder or a huge file gives one line instead of reading without end.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_REFERENCED_BYTES = 10_000_000  #: Largest file a scenario may reference (a start-up profile).


def read_text(path: str | Path, what: str = "file", limit: int = MAX_REFERENCED_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes; ``ValueError`` saying why not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except OSError as exc:
        raise ValueError(f"cannot open the {what} ({exc.strerror or exc.__class__.__name__})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ValueError(f"is a folder, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"is not a regular file (a device, pipe or socket): a {what} must be a file")
        if info.st_size > limit:
            raise ValueError(f"the {what} is {info.st_size:,} bytes; at most {limit:,} are read")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(limit + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:
        raise ValueError(f"the {what} is more than {limit:,} bytes; at most {limit:,} are read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"is not UTF-8 text (byte {exc.start} cannot be decoded): a {what} must be text") from None
