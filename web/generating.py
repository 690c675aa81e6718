"""``madoguchi generate KIND --program ID --data RECORD.json… -o DIR`` (DESIGN 4.1).

Each data file holds one record (a flat object of field values, or the output of
``madoguchi extract --json``), a list of records, or ``{"records": [...]}``. All records of all
files are rendered as one batch (one LibreOffice start). KIND is a notice kind (approval,
rejection, …) or ``published_list`` for the published list of value-added certificates.

Document numbers come from the same counters the web service uses (the database in the data
directory, ``MADOGUCHI_DATA_DIR``), so a number issued here is never issued again there. They
are taken only once the notices are finished and in place (``render_notices``): a missing
LibreOffice (exit 4), a full disk or an unwritable ``-o`` (exit 2) leave the counters as they
were, with a one-line message.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

from forms.errors import InputError, InvalidRecord
from generate.numbering import NumberSequence

PUBLISHED_LIST = "published_list"


def load_records(data_paths: Sequence[Path]) -> list[dict[str, Any]]:
    from generate.notices import records_from_json

    records: list[dict[str, Any]] = []
    for path in data_paths:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(f"{path}: no such file", file=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot be read as UTF-8 text: {exc}", file=str(path)) from None
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidRecord(
                f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}", file=str(path)
            ) from None
        try:
            records.extend(records_from_json(obj))
        except InvalidRecord as exc:
            raise InvalidRecord(f"{path}: {exc.message}", file=str(path)) from None
    if not records:
        raise InvalidRecord("no records in the data files")
    return records


@contextmanager
def installation_numbers() -> Iterator[NumberSequence]:
    """The number counters of this installation: the web service's database (migrated if new)."""
    from web.config import Settings
    from web.db import Database
    from web.numbering import DbNumberSequence

    from sqlalchemy.exc import SQLAlchemyError

    from generate.numbering import NumberingError

    settings = Settings()
    db = Database.from_url(settings.db_url)
    try:
        db.migrate()
        yield DbNumberSequence(db)
    except SQLAlchemyError as exc:
        # a locked, full or unreadable database: one line, never a traceback
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise NumberingError(f"文書番号の記録（データベース）を読み書きできません: {reason}") from None
    finally:
        db.dispose()


def run_generate_command(
    kind: str,
    program: str,
    data_paths: Sequence[Path],
    outdir: Path,
    *,
    numbers: NumberSequence | None = None,
    issue_date: date | None = None,
    force: bool = False,
) -> int:
    """Render and print the written paths, one a line; warnings go to stderr. Returns 0.

    An approval (or another notice that grants something) for a record whose checks fail or
    whose fields are marked for review is refused with the warnings listed, unless ``force``
    (``--force``): then the warnings are printed and the notices issued
    (``generate.acts.act_warnings``)."""
    from forms.programs import get_program

    get_program(program)  # an unknown program fails before any file is read
    records = load_records(data_paths)
    if kind == PUBLISHED_LIST:
        from generate.published_list import write_published_list

        try:
            written = write_published_list(program, records, outdir, published=issue_date)
        except OSError as exc:
            from generate.notices import OutputNotWritable

            raise OutputNotWritable(f"出力先 {outdir} に書き込めません: {exc.strerror or exc}") from None
        for path in written.values():
            print(path)
        for replacement in written.replacements:
            print(f"madoguchi: warning: Shift_JIS CSV: {replacement}", file=sys.stderr)
        return 0

    from generate.notices import render_notices, template_path

    template_path(kind, program)  # an unknown kind fails before numbers are touched
    from generate.acts import NeedsConfirmation, confirmation_needed
    from generate.records import record_from_json

    pending = confirmation_needed(kind, [record_from_json(r) for r in records])
    for index, warning in pending:
        where = f"record {index + 1}: " if len(records) > 1 else ""
        print(f"madoguchi: warning: {where}{warning.message}", file=sys.stderr)
    if pending and not force:
        subjects = ", ".join(dict.fromkeys(w.subject for _, w in pending))
        raise NeedsConfirmation(
            f"{kind}: 確認が必要な事項が{len(pending)}件あります（{subjects}）。確認のうえ --force を付けて発行してください",
            warnings=[w.message for _, w in pending],
        )
    with nullcontext(numbers) if numbers is not None else installation_numbers() as sequence:
        rendered = render_notices(kind, program, records, outdir, numbers=sequence, issue_date=issue_date)
    for notice in rendered:
        for path in notice.paths.values():
            print(path)
        for warning in notice.warnings:
            print(
                f"madoguchi: warning: {notice.paths.get('pdf') or notice.paths.get('docx')}: {warning}",
                file=sys.stderr,
            )
    return 0
