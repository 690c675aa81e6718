"""Document numbers (文書番号) such as 渋広第12号: a per-program, per-fiscal-year sequence.

A number is never handed out twice for the same program and fiscal year, and the sequence
restarts at 1 each fiscal year, as municipal document registers do.

Two ways to take numbers, both on every sequence here (``SqliteNumberSequence``,
``MemoryNumberSequence``, the web's ``web.numbering.DbNumberSequence``):

- ``next(program_id, fiscal_year) -> int`` (``NumberSequence``): the next number, taken at
  once in its own transaction. If the document that asked for it is never made, the number is
  a gap. Kept for callers that number something that already exists.
- reserve and commit (``ReservingSequence``), so that numbers are spent only on documents that
  exist: ``last(program_id, fiscal_year)`` says the last number taken (0 when none), the
  caller makes its documents with ``last + 1 …`` in a staging place, then
  ``claim(program_id, fiscal_year, expected_last, count, finish)`` in ONE transaction checks
  that the counter still stands at ``expected_last``, moves it to ``expected_last + count``,
  and calls ``finish(tx)`` (which puts the finished documents in place and may record them in
  that transaction: ``tx`` is the sequence's transaction, an SQLAlchemy session for the web's
  sequence, the sqlite3 connection here, None in memory). If ``finish`` raises, the counter is
  not moved. ``claim`` returns ``(True, finish's result)``, or ``(False, None)`` without calling
  ``finish`` when someone else took numbers in between: the caller makes its documents again
  with the new numbers (``issue_numbered`` does all of this).

Nothing is locked while documents are made (LibreOffice takes seconds), so the web service and
``madoguchi generate`` never wait on each other; a conflict costs one more rendering.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import date
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

from forms.errors import MadoguchiError


class NumberingError(MadoguchiError):
    """The number store cannot be read or written."""

    exit_code = 5
    code = "numbering_failed"


@runtime_checkable
class NumberSequence(Protocol):
    def next(self, program_id: str, fiscal_year: int) -> int:
        """The next unused number (from 1) of ``program_id`` in ``fiscal_year``."""
        ...


@runtime_checkable
class ReservingSequence(Protocol):
    def last(self, program_id: str, fiscal_year: int) -> int:
        """The last number taken (0 when none yet)."""
        ...

    def claim(
        self,
        program_id: str,
        fiscal_year: int,
        expected_last: int,
        count: int,
        finish: Callable[[Any], Any],
    ) -> tuple[bool, Any]:
        """Move the counter from ``expected_last`` to ``expected_last + count`` and call
        ``finish(tx)`` in the same transaction; ``(False, None)`` if the counter had moved."""
        ...


T = TypeVar("T")

#: How many times documents are made again when other writers keep taking the numbers.
CLAIM_ATTEMPTS = 8


def issue_numbered(
    numbers: ReservingSequence,
    program_id: str,
    fiscal_year: int,
    count: int,
    make: Callable[[int], T],
    finish: Callable[[T, Any], Any],
    discard: Callable[[T], None],
) -> Any:
    """Make ``count`` documents numbered from ``last + 1`` (``make(first)``), then take exactly
    those numbers in the transaction that puts them in place (``finish(made, tx)``).

    A failure in ``make`` or ``finish`` takes no number. ``discard(made)`` is called for
    every made batch that was not put in place (a conflict or a failure).
    """
    for _ in range(CLAIM_ATTEMPTS):
        expected = numbers.last(program_id, fiscal_year)
        made = make(expected + 1)
        try:
            ok, result = numbers.claim(program_id, fiscal_year, expected, count, lambda tx: finish(made, tx))
        except BaseException:
            discard(made)
            raise
        if ok:
            return result
        discard(made)
    raise NumberingError(
        f"文書番号を採番できません: {program_id} {fiscal_year}年度の番号が他の処理で使われ続けています",
        program=program_id,
    )


def fiscal_year_of(day: date, start_month: int = 4) -> int:
    """The fiscal year ``day`` falls in, named by the calendar year it starts in (2026-03-31 → 2025)."""
    if not 1 <= start_month <= 12:
        raise ValueError(f"start_month must be 1..12, not {start_month}")
    return day.year if day.month >= start_month else day.year - 1


def format_document_number(prefix: str, number: int) -> str:
    """``("渋広", 12)`` → ``"渋広第12号"``."""
    if number < 1:
        raise ValueError(f"document numbers start at 1, not {number}")
    return f"{prefix}第{number}号"


class SqliteNumberSequence:
    """Counters in ``<data_dir>/document_numbers.sqlite3`` (created on first use).

    Each call opens and closes its own connection, so an instance may be shared by threads and
    survives ``fork``.
    """

    FILENAME = "document_numbers.sqlite3"
    _TABLE = (
        "CREATE TABLE IF NOT EXISTS document_numbers ("
        " program_id TEXT NOT NULL,"
        " fiscal_year INTEGER NOT NULL,"
        " last_number INTEGER NOT NULL,"
        " PRIMARY KEY (program_id, fiscal_year))"
    )

    def __init__(self, data_dir: Path, *, timeout: float = 30.0) -> None:
        self.path = Path(data_dir) / self.FILENAME
        self._timeout = timeout

    def _execute(self, sql: str, params: tuple[object, ...]) -> tuple[Any, ...] | None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit: each statement is its own transaction.
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise NumberingError(
                f"文書番号の記録 {self.path} を開けません: {exc}", path=str(self.path)
            ) from exc
        try:
            conn.execute(self._TABLE)
            # fetchall() steps the statement to its end, so the write is committed before close.
            rows = conn.execute(sql, params).fetchall()
            return tuple(rows[0]) if rows else None
        except sqlite3.Error as exc:
            raise NumberingError(
                f"文書番号を採番できません ({self.path}): {exc}", path=str(self.path)
            ) from exc
        finally:
            conn.close()

    def next(self, program_id: str, fiscal_year: int) -> int:
        row = self._execute(
            "INSERT INTO document_numbers (program_id, fiscal_year, last_number) VALUES (?, ?, 1)"
            " ON CONFLICT (program_id, fiscal_year) DO UPDATE SET last_number = last_number + 1"
            " RETURNING last_number",
            (program_id, int(fiscal_year)),
        )
        assert row is not None
        return int(row[0])

    def last(self, program_id: str, fiscal_year: int) -> int:
        """The last number handed out (0 when none yet)."""
        row = self._execute(
            "SELECT last_number FROM document_numbers WHERE program_id = ? AND fiscal_year = ?",
            (program_id, int(fiscal_year)),
        )
        return int(row[0]) if row else 0

    def claim(
        self,
        program_id: str,
        fiscal_year: int,
        expected_last: int,
        count: int,
        finish: Callable[[Any], Any],
    ) -> tuple[bool, Any]:
        if count < 1:
            raise ValueError(f"count must be positive, not {count}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise NumberingError(
                f"文書番号の記録 {self.path} を開けません: {exc}", path=str(self.path)
            ) from exc
        try:
            try:
                conn.execute(self._TABLE)
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute(
                    "SELECT last_number FROM document_numbers WHERE program_id = ? AND fiscal_year = ?",
                    (program_id, int(fiscal_year)),
                ).fetchone()
                if (int(row[0]) if row else 0) != expected_last:
                    conn.execute("ROLLBACK")
                    return False, None
                conn.execute(
                    "INSERT INTO document_numbers (program_id, fiscal_year, last_number) VALUES (?, ?, ?)"
                    " ON CONFLICT (program_id, fiscal_year) DO UPDATE SET last_number = excluded.last_number",
                    (program_id, int(fiscal_year), expected_last + count),
                )
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise NumberingError(
                    f"文書番号を採番できません ({self.path}): {exc}", path=str(self.path)
                ) from exc
            try:
                result = finish(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise NumberingError(
                    f"文書番号を記録できません ({self.path}): {exc}", path=str(self.path)
                ) from exc
            return True, result
        finally:
            conn.close()


class MemoryNumberSequence:
    """In-process counters, for previews and tests (not shared between processes)."""

    def __init__(self, start: dict[tuple[str, int], int] | None = None) -> None:
        self._last: dict[tuple[str, int], int] = dict(start or {})
        self._lock = threading.Lock()

    def next(self, program_id: str, fiscal_year: int) -> int:
        with self._lock:
            key = (program_id, int(fiscal_year))
            self._last[key] = self._last.get(key, 0) + 1
            return self._last[key]

    def last(self, program_id: str, fiscal_year: int) -> int:
        with self._lock:
            return self._last.get((program_id, int(fiscal_year)), 0)

    def claim(
        self,
        program_id: str,
        fiscal_year: int,
        expected_last: int,
        count: int,
        finish: Callable[[Any], Any],
    ) -> tuple[bool, Any]:
        if count < 1:
            raise ValueError(f"count must be positive, not {count}")
        with self._lock:
            key = (program_id, int(fiscal_year))
            if self._last.get(key, 0) != expected_last:
                return False, None
            result = finish(None)  # raises: the counter stays
            self._last[key] = expected_last + count
            return True, result
