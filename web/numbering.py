"""Document numbers from the database: per program and fiscal year, never repeated.

Implements both shapes of ``generate.numbering`` (see its docstring):

- ``next(program_id, fiscal_year) -> int``: the next number in its own short transaction (a
  gap if the caller's document is never made). Kept working for every caller.
- ``last`` / ``claim``: the reserve-and-commit shape ``generate.notices.render_notices`` uses,
  so that a number is taken in the same transaction that records the finished document.
  ``claim`` runs ``finish(session)`` (the notices moved into place) and then, in that same
  session, ``on_commit(session, finish's result)`` when the sequence was made with one (the
  web's notice rows get their number and files there), and commits all of it at once; any
  failure rolls the counter back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from generate.numbering import NumberingError
from web.db import Database
from web.models import NumberCounter


class DbNumberSequence:
    def __init__(self, db: Database, *, on_commit: Callable[[Session, Any], None] | None = None) -> None:
        self.db = db
        self.on_commit = on_commit

    def next(self, program_id: str, fiscal_year: int) -> int:
        for _ in range(5):
            with self.db.session() as s:
                stmt = (
                    update(NumberCounter)
                    .where(NumberCounter.program_id == program_id, NumberCounter.fiscal_year == fiscal_year)
                    .values(last=NumberCounter.last + 1)
                    .returning(NumberCounter.last)
                )
                number = s.execute(stmt).scalar_one_or_none()
                if number is not None:
                    return int(number)
            try:
                with self.db.session() as s:
                    s.execute(insert(NumberCounter).values(program_id=program_id, fiscal_year=fiscal_year, last=1))
                return 1
            except IntegrityError:
                continue  # another process created the counter first: take the next one
        raise NumberingError("文書番号を採番できません", program=program_id)

    def current(self, program_id: str, fiscal_year: int) -> int:
        with self.db.session() as s:
            last = s.scalar(
                select(NumberCounter.last).where(
                    NumberCounter.program_id == program_id, NumberCounter.fiscal_year == fiscal_year
                )
            )
        return int(last or 0)

    def last(self, program_id: str, fiscal_year: int) -> int:
        return self.current(program_id, fiscal_year)

    def _ensure_counter(self, program_id: str, fiscal_year: int) -> None:
        try:
            with self.db.session() as s:
                exists = s.scalar(
                    select(NumberCounter.last).where(
                        NumberCounter.program_id == program_id, NumberCounter.fiscal_year == fiscal_year
                    )
                )
                if exists is None:
                    s.execute(insert(NumberCounter).values(program_id=program_id, fiscal_year=fiscal_year, last=0))
        except IntegrityError:
            pass  # created by another process in between

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
        if expected_last == 0:
            self._ensure_counter(program_id, fiscal_year)
        with self.db.session() as s:
            moved = s.execute(
                update(NumberCounter)
                .where(
                    NumberCounter.program_id == program_id,
                    NumberCounter.fiscal_year == fiscal_year,
                    NumberCounter.last == expected_last,
                )
                .values(last=expected_last + count)
            ).rowcount
            if moved != 1:
                s.rollback()
                return False, None
            result = finish(s)  # raises: the session rolls back, the counter stays
            if self.on_commit is not None:
                self.on_commit(s, result)
        return True, result
