"""The two databases the styles use, behind one small interface and one SQL dialect.

Domain code writes PostgreSQL-style SQL with ``$1`` placeholders. :class:`PostgresDatabase` runs it
on asyncpg; :class:`SqliteDatabase` runs it on SQLite (used for the in-memory replicas of the
space-based style), whose ``?1`` placeholders are the same numbered parameters. Every write inside
:meth:`Database.transaction` is recorded as ``(sql, args)``, so a replica can ship exactly the
statements it applied to its peers and to the data pump.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

Statement = tuple[str, tuple[Any, ...]]  #: One write: SQL text and its arguments.


class Transaction:
    """The operations available inside a transaction (and, one statement each, on the database)."""

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a write; return the number of rows it changed."""
        raise NotImplementedError


class Database(Transaction):
    """A database: single statements, plus :meth:`transaction` for several at once."""

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        raise NotImplementedError

    async def execute(self, sql: str, *args: Any) -> int:
        async with self.transaction() as tx:
            return await tx.execute(sql, *args)

    async def close(self) -> None:
        """Release connections."""


# --------------------------------------------------------------------------------------- Postgres


class _PostgresTransaction(Transaction):
    def __init__(self, connection: Any):
        self._connection = connection

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return [dict(row) for row in await self._connection.fetch(sql, *args)]

    async def execute(self, sql: str, *args: Any) -> int:
        status = await self._connection.execute(sql, *args)
        tail = status.rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0


class PostgresDatabase(Database):
    """A PostgreSQL database reached through an asyncpg connection pool, opened at start-up."""

    def __init__(self, dsn: str, pool_size: int = 8):
        self.dsn = dsn
        self.pool_size = pool_size
        self._pool: Any = None

    async def open(self, timeout_s: float = 90.0) -> None:
        """Connect, retrying while the database container is still starting."""
        import asyncpg

        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.pool_size)
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async with self._pool.acquire() as connection:
            return [dict(row) for row in await connection.fetch(sql, *args)]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._pool.acquire() as connection:
            async with connection.transaction():
                yield _PostgresTransaction(connection)

    @contextlib.asynccontextmanager
    async def advisory_lock(self, key: int) -> AsyncIterator[None]:
        """Hold a cluster-wide lock (replicas creating the same schema take turns)."""
        async with self._pool.acquire() as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", key)
            try:
                yield
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", key)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


# ----------------------------------------------------------------------------------------- SQLite

_PLACEHOLDER = re.compile(r"\$(\d+)")


def to_sqlite(sql: str) -> str:
    """``$1`` placeholders become SQLite's numbered ``?1``."""
    return _PLACEHOLDER.sub(r"?\1", sql)


class _SqliteTransaction(Transaction):
    def __init__(self, connection: sqlite3.Connection, journal: list[Statement]):
        self._connection = connection
        self._journal = journal

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        cursor = self._connection.execute(to_sqlite(sql), args)
        names = [column[0] for column in cursor.description or ()]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        if not sql.lstrip().upper().startswith("SELECT"):
            self._journal.append((sql, tuple(args)))
        return rows

    async def execute(self, sql: str, *args: Any) -> int:
        changed = self._connection.execute(to_sqlite(sql), args).rowcount
        self._journal.append((sql, tuple(args)))
        return max(changed, 0)


class SqliteDatabase(Database):
    """An SQLite database (``:memory:`` for a replica), with a hook called after each commit.

    ``on_commit`` receives the writes of the committed transaction, in order. Calls are
    synchronous: a transaction never awaits anything but its own statements, so transactions
    cannot interleave on the event loop.
    """

    def __init__(self, path: str = ":memory:", on_commit: Callable[[Sequence[Statement]], None] | None = None):
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.on_commit = on_commit

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return await _SqliteTransaction(self._connection, []).fetch(sql, *args)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        journal: list[Statement] = []
        self._connection.execute("BEGIN")
        try:
            yield _SqliteTransaction(self._connection, journal)
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")
        if journal and self.on_commit is not None:
            self.on_commit(journal)

    def apply(self, statements: Sequence[Statement]) -> None:
        """Apply writes shipped from another replica, in one transaction, without re-publishing."""
        self._connection.execute("BEGIN")
        try:
            for sql, args in statements:
                self._connection.execute(to_sqlite(sql), tuple(args))
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    async def close(self) -> None:
        self._connection.close()
