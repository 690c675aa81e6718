"""Retention and destruction: personal data kept only as long as the program allows.

A program declares its period in ``forms/programs/<id>/handling.yaml`` (Shika: three months
after the work ends, 001 別紙② 3(5)). A case's work ends with a decision that ends it (a
rejection, a withdrawal); once its period has passed, ``purge`` destroys the case's personal
data, copies included: the originals, page images and cached readings of its documents, the
message it came in and the messages sent about it, the read fields and their corrections, the
notices' files, the memos, and the supplier when no other case refers to it. What the
municipality must keep stays: the decision, the document numbers, the notices' kinds and dates,
the audit trail (ids only). Messages no program claimed that a clerk judged to need nothing
(対応不要) go ``mail_queue_retention_days`` after they came; one still waiting for a clerk stays.

Each run that destroys something writes an audit entry with counts (never the data) and, per
program, the written notice of destruction (廃棄報告, ``generate.destruction_report``). A SQLite
database is then checkpointed and vacuumed, so deleted rows do not linger in its free pages.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, send_file, url_for
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from forms.errors import MadoguchiError
from generate.destruction_report import KINDS
from web import audit
from web.auth import role_required
from web.db_session import Runtime, db_session, runtime
from web.mail_catalogue import handling
from web.mail_intake import audit_event
from web.models import (
    Case,
    CaseMemo,
    CasePurge,
    Certificate,
    DestructionReport,
    Document,
    FieldCorrection,
    FindingRow,
    MailMessage,
    OutgoingMail,
    Program,
    RecordField,
    Supplier,
    utcnow,
)

log = logging.getLogger("madoguchi.retention")

JST = timezone(timedelta(hours=9), "JST")
#: Statuses in which a case's work has ended.
ENDED = ("rejected", "withdrawn")


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _jst_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JST).date()


def case_end(case: Case, followups: list[Case]) -> date | None:
    """The day the case's work ended: its last standing decision (or its follow-ups'), when
    the case is rejected or withdrawn; None while it goes on."""
    if case.status not in ENDED:
        return None
    days = [_jst_date(d.decided_at) for c in (case, *followups) for d in c.decisions
            if getattr(d, "undone_at", None) is None]
    return max(days) if days else _jst_date(case.updated_at)


@dataclass
class Plan:
    """What a purge run destroys: cases by program, queued messages."""

    cases: dict[str, list[int]] = field(default_factory=dict)
    ends: dict[int, date] = field(default_factory=dict)
    mail: list[int] = field(default_factory=list)


@dataclass
class PurgeResult:
    today: date
    dry_run: bool
    counts: dict[str, int]
    by_program: dict[str, dict[str, int]]
    reports: list[int] = field(default_factory=list)


def plan(s: Session, rt: Runtime, today: date) -> Plan:
    out = Plan()
    purged = set(s.scalars(select(CasePurge.case_id)))
    for program_id in s.scalars(select(Program.id).order_by(Program.id)):
        try:
            rule = handling(program_id).retention
        except MadoguchiError:
            continue
        if rule is None:
            continue
        for case in s.scalars(select(Case).where(Case.program_id == program_id, Case.parent_id.is_(None),
                                                 Case.status.in_(ENDED))):
            followups = list(s.scalars(select(Case).where(Case.parent_id == case.id)))
            end = case_end(case, followups)
            if end is None or add_months(end, rule.months) > today:
                continue
            for c in (case, *followups):
                if c.id not in purged:
                    out.cases.setdefault(program_id, []).append(c.id)
                    out.ends[c.id] = end
    days = rt.settings.mail_queue_retention_days
    if days > 0:
        cutoff = datetime.combine(today - timedelta(days=days), time(0), tzinfo=JST)
        out.mail = list(s.scalars(select(MailMessage.id).where(
            MailMessage.case_id.is_(None), MailMessage.purged_at.is_(None),
            MailMessage.status == "discarded", MailMessage.received_at < cutoff)))
    return out


def purge(rt: Runtime, today: date, dry_run: bool = False, user_id: int | None = None) -> PurgeResult:
    """Destroy what is past its period (``dry_run``: count it only)."""
    totals: Counter[str] = Counter()
    by_program: dict[str, Counter[str]] = {}
    reports: list[int] = []
    with rt.db.session() as s:
        todo = plan(s, rt, today)
        for program_id, case_ids in todo.cases.items():
            counts = by_program.setdefault(program_id, Counter())
            doomed = set(case_ids)
            for case_id in case_ids:
                case = s.get(Case, case_id)
                assert case is not None
                _purge_case(s, rt, case, doomed, counts, dry_run)
        queue = Counter[str]()
        for mail_id in todo.mail:
            mail = s.get(MailMessage, mail_id)
            assert mail is not None
            _purge_message(s, rt, mail, queue, dry_run)
        if queue:
            by_program["(振分待ち)"] = queue
        for counts in by_program.values():
            totals.update(counts)
        if dry_run:
            s.rollback()
            return PurgeResult(today, True, dict(totals), {k: dict(v) for k, v in by_program.items()})
        for program_id, counts in by_program.items():
            report = DestructionReport(program_id=program_id if program_id in todo.cases else None,
                                       counts=dict(counts), created_by=user_id)
            s.add(report)
            s.flush()
            for case_id in todo.cases.get(program_id, []):
                s.add(CasePurge(case_id=case_id, report_id=report.id))
            reports.append(report.id)
        if totals:
            audit_event(s, "retention.purge", "destruction_report", reports[0] if reports else None, user_id,
                        reports=reports, **dict(totals))
    for report_id in reports:
        _write_report(rt, report_id, today)
    if totals:
        compact(rt)
    log.info("purge: %s", dict(totals) or "nothing past its period")
    return PurgeResult(today, False, dict(totals), {k: dict(v) for k, v in by_program.items()}, reports)


def _unlink(path: Path, counts: Counter[str], kind: str, dry_run: bool) -> None:
    if path.exists():
        counts[kind] += 1
        if not dry_run:
            path.unlink()


def _sha_still_used(s: Session, sha: str, doomed: set[int]) -> bool:
    """Another case that stays holds the same bytes (a file uploaded twice); cases purged
    before hold nothing any more."""
    purged = select(CasePurge.case_id)
    other = s.scalar(select(Document.id).where(Document.sha256 == sha, Document.case_id.not_in(doomed),
                                               Document.case_id.not_in(purged)).limit(1))
    return other is not None


def _purge_case(s: Session, rt: Runtime, case: Case, doomed: set[int], counts: Counter[str], dry_run: bool) -> None:
    from extract.cache import cache_dir

    counts["cases"] += 1
    cache = cache_dir()
    for doc in case.documents:
        if not _sha_still_used(s, doc.sha256, doomed):
            originals = rt.storage.root / "originals" / doc.sha256[:2]
            for path in originals.glob(f"{doc.sha256}.*") if originals.is_dir() else []:
                _unlink(path, counts, "originals", dry_run)
            pages = rt.storage.page_image(doc.sha256, 1).parent
            if pages.is_dir():
                counts["page_images"] += sum(1 for _ in pages.glob("*.png"))
                if not dry_run:
                    shutil.rmtree(pages, ignore_errors=True)
            if cache is not None and (cache / "pages" / doc.sha256[:2]).is_dir():
                for path in (cache / "pages" / doc.sha256[:2]).glob(f"{doc.sha256}*"):
                    _unlink(path, counts, "cache_entries", dry_run)
        for rec in doc.records:
            for f in rec.fields:
                counts["fields"] += 1
                counts["corrections"] += len(f.corrections)
                if not dry_run:
                    s.execute(delete(FieldCorrection).where(FieldCorrection.field_id == f.id))
            if not dry_run:
                s.execute(delete(RecordField).where(RecordField.record_id == rec.id))
                rec.text = None
        if not dry_run:
            doc.filename = f"document-{doc.id}"
            doc.error_message = None
    for notice in case.notices:
        folder = rt.storage.notice_dir(case.id) / str(notice.id)
        for rel in notice.files.values():
            path = rt.storage.resolve(str(rel))
            _unlink(path, counts, "notice_files", dry_run)
        if not dry_run:
            notice.files = {}
            notice.error_message = None
            shutil.rmtree(folder, ignore_errors=True)
    if not dry_run:
        shutil.rmtree(rt.storage.notice_dir(case.id), ignore_errors=True)
        s.execute(delete(FindingRow).where(FindingRow.case_id == case.id))
        for cert in s.scalars(select(Certificate).where(Certificate.case_id == case.id)):
            cert.data = {}
    memos = list(s.scalars(select(CaseMemo).where(CaseMemo.case_id == case.id)))
    counts["memos"] += len(memos)
    for mail in s.scalars(select(MailMessage).where(MailMessage.case_id == case.id)):
        _purge_message(s, rt, mail, counts, dry_run, doomed)
    for out in s.scalars(select(OutgoingMail).where(OutgoingMail.case_id == case.id)):
        counts["outgoing_mails"] += 1
        if out.file and not dry_run:
            Path(out.file).unlink(missing_ok=True)
        if not dry_run:
            out.to_address, out.subject, out.last_error, out.file = "", "", None, None
    if dry_run:
        return
    for memo in memos:
        s.delete(memo)
    supplier_id = case.supplier_id
    case.applicant_name = ""
    case.supplier_id = None
    s.flush()
    if supplier_id is not None:
        others = s.scalar(select(Case.id).where(Case.supplier_id == supplier_id).limit(1))
        if others is None:
            counts["suppliers"] += 1
            s.execute(delete(Supplier).where(Supplier.id == supplier_id))


def _purge_message(s: Session, rt: Runtime, mail: MailMessage, counts: Counter[str], dry_run: bool,
                   doomed: set[int] | None = None) -> None:
    counts["mail_messages"] += 1
    if doomed is None or not _sha_still_used(s, mail.sha256, doomed):
        path = rt.storage.original_path(mail.sha256, "eml")
        if path.exists() and not dry_run:
            path.unlink()
    if not dry_run:
        mail.subject, mail.sender, mail.error_message = "", "", None
        mail.purged_at = utcnow()


def _write_report(rt: Runtime, report_id: int, today: date) -> None:
    from generate.destruction_report import DestructionReport as Report
    from generate.destruction_report import write_report
    from web import services

    with rt.db.session() as s:
        row = s.get(DestructionReport, report_id)
        assert row is not None
        rule = handling(row.program_id).retention if row.program_id else None
        if row.program_id:
            program = services.get_program(row.program_id)
            municipality, head, dept, name = program.municipality, program.head_title, program.department, program.name
        else:
            municipality, head, dept, name = "", "個人情報保護管理者", "窓口 Madoguchi", "メール受付"
        report = Report(
            municipality=municipality, head_title=head, department=dept, program_name=name,
            destroyed_on=today, counts=dict(row.counts),
            period=f"業務終了後{rule.months}か月" if rule else f"受信後{rt.settings.mail_queue_retention_days}日",
            clause=rule.clause if rule else "",
        )
        out = rt.storage.root / "destruction" / f"report-{report_id}.pdf"
        write_report(report, out)
        row.files = {"pdf": rt.storage.relative(out)}


def compact(rt: Runtime) -> None:
    """Deleted rows out of the database file: SQLite's WAL checkpointed and the file rebuilt.
    (PostgreSQL's own VACUUM reclaims dead rows; it is left to the server's autovacuum.)"""
    engine = rt.db.engine
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# --- the desk: a preview, the run, the reports ----------------------------------------------

bp = Blueprint("retention", __name__)


@bp.get("/")
@role_required("approver")
def index() -> Any:
    from web.tasks import today_jst

    s = db_session()
    preview = purge(runtime(), today_jst(), dry_run=True)
    reports = list(s.scalars(select(DestructionReport).order_by(DestructionReport.id.desc()).limit(50)))
    audit.record("retention.preview", "destruction_report", None, **preview.counts)
    return render_template("mail/retention.html", preview=preview, reports=reports, kinds=KINDS)


@bp.post("/purge")
@role_required("approver")
def run() -> Any:
    from web.tasks import today_jst

    result = purge(runtime(), today_jst(), user_id=g.user.id)
    audit.record("retention.run", "destruction_report", None, reports=result.reports)
    flash(f"保存期間を過ぎた個人情報等を廃棄しました（案件 {result.counts.get('cases', 0)} 件）。", "info")
    return redirect(url_for("retention.index"))


@bp.get("/reports/<int:report_id>.pdf")
@role_required("clerk")
def report_pdf(report_id: int) -> Any:
    row = db_session().get(DestructionReport, report_id)
    if row is None or "pdf" not in row.files:
        abort(404)
    audit.record("retention.report", "destruction_report", row.id)
    return send_file(runtime().storage.resolve(row.files["pdf"]), mimetype="application/pdf",
                     as_attachment=True, download_name=f"haiki-houkoku-{row.id}.pdf")
