"""Decisions on cases, made once: one standing decision per case, enforced by the database.

A decision is one transaction:

1. the case moves from 確認待ち to its decided status by a conditional ``UPDATE … WHERE
   status = 'review'`` (the row is locked on PostgreSQL; SQLite serialises writers), so of
   several simultaneous decisions exactly one changes a row and the others change none;
2. the decision row is inserted; a partial unique index (``uq_decisions_standing``: one row per
   case whose ``undone_at`` is null) refuses a second one, should the first guard be bypassed;
3. the notice's document number is taken from the program's counter *in the same transaction*
   and written on the notice row, so a decision that fails takes no number and a number taken
   always belongs to a notice that exists (rendering it later, or again, reuses it).

Undoing a decision is an explicit act with a reason: the decision is marked undone, its notices
are withdrawn (their numbers are not reused), certificates it accepted are withdrawn, and the
case returns to 確認待ち.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forms.errors import MadoguchiError
from web import services
from web.db_session import Runtime
from web.models import Case, Certificate, Decision, Notice, NumberCounter, RecordField, utcnow

log = logging.getLogger("madoguchi.decisions")

DECIDED_STATUS = {"approve": "approved", "approve_with_conditions": "approved_with_conditions", "reject": "rejected"}


class DecisionError(MadoguchiError):
    """A decision that cannot be made as asked."""

    http_status = 409
    code = "decision_refused"


class AlreadyDecided(DecisionError):
    code = "already_decided"


class NeedsConfirmation(DecisionError):
    """The approver must confirm the warnings (findings not met, fields marked) first."""

    code = "needs_confirmation"


class ReasonRequired(DecisionError):
    http_status = 400
    code = "reason_required"


@dataclass
class Warnings:
    """What an approver is asked to confirm before approving."""

    findings: list[dict[str, str]] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.findings or self.fields)

    def as_json(self) -> dict[str, Any]:
        return {"findings": self.findings, "fields": self.fields}


def warnings_for(case: Case) -> Warnings:
    """Findings not met (fail, warn) and fields still marked for review and not confirmed."""
    out = Warnings()
    for f in case.findings:
        if f.status in ("fail", "warn"):
            out.findings.append({"rule": f.rule, "status": f.status, "clause": f.clause})
    for doc in case.documents:
        for rec in doc.records:
            for fld in rec.fields:
                if _still_marked(fld):
                    out.fields.append(f"{rec.id}:{fld.key}")
    return out


def _still_marked(fld: RecordField) -> bool:
    return bool(fld.review and not fld.corrected and fld.confirmed_at is None)


def take_number(s: Session, program_id: str, fiscal_year: int) -> int:
    """The program's next document number, taken inside the caller's transaction (the counter
    row stays locked until it commits; a rollback gives the number back)."""
    for _ in range(5):
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
            with s.begin_nested():
                s.execute(insert(NumberCounter).values(program_id=program_id, fiscal_year=fiscal_year, last=1))
            return 1
        except IntegrityError:
            continue  # another transaction created the counter first: update it
    raise DecisionError("文書番号を採番できません。もう一度お試しください。")


def decision_day(decided_at: datetime) -> date:
    from web.tasks import JST

    return decided_at.astimezone(JST).date()


def decide(
    s: Session,
    case_id: int,
    outcome: str,
    *,
    user_id: int,
    conditions: str = "",
    reasons: str = "",
    confirmed: bool = False,
) -> Decision:
    """Decide a case in the session's transaction (the caller commits, then queues the notices).

    Raises AlreadyDecided when the case is not (or no longer) awaiting a decision,
    NeedsConfirmation when approving over warnings without ``confirmed``, ReasonRequired when
    rejecting without a reason or approving with conditions without them.
    """
    from web.notices import decide as record_decision

    if outcome not in DECIDED_STATUS:
        raise DecisionError(f"unknown outcome {outcome!r}")
    if outcome == "reject" and not reasons.strip():
        raise ReasonRequired("不承認の理由を入力してください。")
    if outcome == "approve_with_conditions" and not conditions.strip():
        raise ReasonRequired("条件付承認には条件を入力してください。")
    case = s.get(Case, case_id)
    if case is None or case.status != "review":
        raise AlreadyDecided("この案件はすでに決定されているか、決定できる状態ではありません。")
    acknowledged: dict[str, Any] = {}
    if outcome != "reject":
        found = warnings_for(case)
        if found and not confirmed:
            raise NeedsConfirmation("要件を満たさない項目または要確認の項目があります。確認のうえ決定してください。",
                                    warnings=found.as_json())
        if found:
            acknowledged = found.as_json()
    new_status = DECIDED_STATUS[outcome]
    if case.kind == "withdrawal":
        new_status = "withdrawn" if outcome != "reject" else "rejected"
    # The guard: of simultaneous decisions only one moves the case out of 確認待ち.
    moved = s.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == "review")
        .values(status=new_status, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        s.rollback()
        raise AlreadyDecided("この案件はすでに決定されているか、決定できる状態ではありません。")
    s.refresh(case)
    try:
        decision = record_decision(s, case, outcome, conditions.strip(), reasons.strip(), user_id)
        decision.acknowledged = acknowledged
        s.flush()
    except IntegrityError:
        s.rollback()
        raise AlreadyDecided("この案件はすでに決定されています。") from None
    _number_notices(s, case, decision)
    return decision


def _number_notices(s: Session, case: Case, decision: Decision) -> None:
    numbered = services.numbered_notice_kinds()
    day = decision_day(decision.decided_at or utcnow())
    for notice in s.scalars(select(Notice).where(Notice.decision_id == decision.id)):
        if notice.kind in numbered and not notice.doc_number:
            fiscal_year = services.fiscal_year(case.program_id, day)
            number = take_number(s, case.program_id, fiscal_year)
            notice.doc_number = services.document_number(case.program_id, number)


def undo(s: Session, case_id: int, *, user_id: int, reason: str) -> Decision:
    """Undo the case's standing decision (the caller commits and audits)."""
    if not reason.strip():
        raise ReasonRequired("取消の理由を入力してください。")
    case = s.get(Case, case_id)
    decision = None
    if case is not None:
        decision = s.scalar(
            select(Decision).where(Decision.case_id == case_id, Decision.undone_at.is_(None)).with_for_update()
        )
    if case is None or decision is None:
        raise DecisionError("取り消す決定がありません。")
    if case.kind == "application" and s.scalar(
        select(Case.id).where(Case.parent_id == case.id, Case.status.in_(tuple(DECIDED_STATUS.values()) + ("withdrawn",)))
    ):
        raise DecisionError("変更・辞退が決定済みのため、この決定は取り消せません。")
    now = utcnow()
    decision.undone_at = now
    decision.undone_by = user_id
    decision.undo_reason = reason.strip()
    for notice in s.scalars(select(Notice).where(Notice.decision_id == decision.id)):
        notice.status = "withdrawn"
    for cert in s.scalars(select(Certificate).where(Certificate.case_id == case.id, Certificate.withdrawn_at.is_(None))):
        cert.withdrawn_at = now
    if case.kind == "withdrawal" and case.parent is not None and case.parent.status == "withdrawn":
        standing = s.scalar(
            select(Decision).where(Decision.case_id == case.parent.id, Decision.undone_at.is_(None))
        )
        case.parent.status = DECIDED_STATUS.get(standing.outcome, "review") if standing else "review"
    case.status = "review"
    case.updated_at = now
    s.flush()
    return decision


def standing_decision(case: Case) -> Decision | None:
    return next((d for d in case.decisions if d.undone_at is None), None)


def render_notices(rt: Runtime, notice_ids: list[int]) -> None:
    """Render notices; those numbered at their decision keep their number and its date."""
    from web.notices import notice_record, render_and_record, render_pending

    plain: list[int] = []
    for notice_id in notice_ids:
        with rt.db.session() as s:
            notice = s.get(Notice, notice_id)
            if notice is None or notice.status in ("done", "withdrawn"):
                continue
            if not notice.doc_number or notice.decision_id is None:
                plain.append(notice_id)
                continue
            case = notice.case
            decision = s.get(Decision, notice.decision_id)
            record = notice_record(case, notice)
            record["document_number"] = notice.doc_number
            kind, program_id, doc_number = notice.kind, case.program_id, notice.doc_number
            day = decision_day(decision.decided_at) if decision is not None else None
            outdir = rt.storage.notice_dir(case.id) / str(notice.id)
        render_and_record(
            rt, notice_id,
            lambda: services.render_notices(kind, program_id, [record], outdir, numbers=None, issue_date=day),  # noqa: B023 - called at once
            doc_number,
        )
    if plain:
        render_pending(rt, plain)
