"""Errors a user can act on.

Every error that reaches the command line is an :class:`ArchsimError`: the CLI prints its message
on one line and exits with :attr:`ArchsimError.exit_code`, never with a traceback.
"""

import re

MAX_WORD = 400  #: Longest run of non-blank characters kept in a message (a path, or a name the user wrote).
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD + 1},}}")


class ArchsimError(Exception):
    """An error caused by the user's input or environment, reported on one line."""

    exit_code: int = 2  #: Process exit code used by the CLI for this error.

    def __init__(self, message: str):
        message = message.replace("\r", "\\r").replace("\n", "\\n")  # always one line
        message = _LONG_WORD.sub(lambda m: m.group()[: MAX_WORD - 3] + "...", message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ScenarioError(ArchsimError):
    """A scenario file is malformed: names the file, the field path (and line) and what is expected."""

    def __init__(self, file: str, path: str, expected: str, line: int | None = None):
        from .suggest import shown

        where = f"{shown(file)}:{line}" if line else shown(file)
        field = f" {path}:" if path else ""
        super().__init__(f"{where}:{field} {expected}")
        self.file = file
        self.path = path
        self.expected = expected
        self.line = line


class EnvironmentProblem(ArchsimError):
    """Something outside archsim is missing or busy (no container engine, port in use, ...)."""
