"""The web's confirmation before an approval (issue 23 (7)): ``web.notices.approval_warnings``
on a case in a real (SQLite) database gives the failed checks and the fields still marked for
review, and forgets a field once a clerk corrected it."""

from __future__ import annotations

from pathlib import Path

from web.db import Database
from web.models import Case, Document, FindingRow, Program, Record, RecordField
from web.notices import approval_warnings


def test_approval_warnings_of_a_case(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    db.migrate()
    try:
        with db.session() as s:
            if s.get(Program, "shibukawa") is None:
                s.add(Program(id="shibukawa", name="渋川市ふるさと応援寄附金", municipality="渋川市"))
            case = Case(program_id="shibukawa", applicant_name="株式会社 渋川フーズ", product_name="上州和牛")
            s.add(case)
            s.flush()
            doc = Document(case_id=case.id, filename="form1.pdf", media_type="application/pdf", sha256="0" * 64, size=1)
            s.add(doc)
            s.flush()
            rec = Record(document_id=doc.id, form="shibukawa.form1")
            s.add(rec)
            s.flush()
            s.add_all(
                [
                    RecordField(record_id=rec.id, key="applicant_name", value="株式会社 渋川フーズ", review=False),
                    RecordField(record_id=rec.id, key="donation_amount", value=12000, review=True),
                    RecordField(record_id=rec.id, key="product_name", value="上州和牛", review=True, corrected=True),
                    FindingRow(case_id=case.id, rule="return_ratio", status="fail", message="30%を超えています", clause="004 7(2)"),
                    FindingRow(case_id=case.id, rule="tax_arrears", status="pass", message="滞納なし", clause="004 3(1)"),
                ]
            )
            s.flush()
            s.refresh(case)
            warnings = approval_warnings(case)
            assert [(w.kind, w.subject) for w in warnings] == [
                ("check_failed", "return_ratio"),
                ("field_for_review", "donation_amount"),  # product_name was corrected: confirmed
            ]
            assert "004 7(2)" in warnings[0].message and "寄附金額" in warnings[1].message
            assert approval_warnings(case, "rejection") == []
    finally:
        db.dispose()
