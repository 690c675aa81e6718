"""Document numbers from the database: per program and fiscal year, never repeated.

Implements ``generate.numbering.NumberSequence`` (``next(program_id, fiscal_year) -> int``).
Each call takes the next number in its own short transaction, so a number once handed out is
never handed out again, even if the notice that asked for it fails later (a gap, not a repeat).
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from web.db import Database
from web.models import NumberCounter


class DbNumberSequence:
    def __init__(self, db: Database) -> None:
        self.db = db

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
        raise RuntimeError("could not take a document number")

    def current(self, program_id: str, fiscal_year: int) -> int:
        with self.db.session() as s:
            last = s.scalar(
                select(NumberCounter.last).where(
                    NumberCounter.program_id == program_id, NumberCounter.fiscal_year == fiscal_year
                )
            )
        return int(last or 0)
