"""Document numbers (文書番号) such as 渋広第12号: a per-program, per-fiscal-year sequence.

A number, once handed out, is never handed out again for the same program and fiscal year,
even when the notice that took it fails to render (a gap is allowed, a repeat is not). The
sequence restarts at 1 each fiscal year, as municipal document registers do.

``SqliteNumberSequence`` keeps the counters in an SQLite file in a directory the caller gives;
one ``INSERT … ON CONFLICT … RETURNING`` statement per number makes it safe across threads and
processes (SQLite's write lock serialises writers; ``busy_timeout`` makes them wait). The web
layer may supply its own database-backed sequence: anything with ``next(program_id,
fiscal_year) -> int`` will do.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import date
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

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
            conn.execute(
                "CREATE TABLE IF NOT EXISTS document_numbers ("
                " program_id TEXT NOT NULL,"
                " fiscal_year INTEGER NOT NULL,"
                " last_number INTEGER NOT NULL,"
                " PRIMARY KEY (program_id, fiscal_year))"
            )
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
