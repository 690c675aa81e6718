"""From a decision to the notices to download: the records handed to ``generate.notices``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from forms.errors import MadoguchiError
from web import services
from web.db_session import Runtime
from web.models import Case, Certificate, Decision, Notice, utcnow
from web.numbering import DbNumberSequence

log = logging.getLogger("madoguchi.notices")

#: Notice kinds by decision outcome, for each kind of case.
DECISION_NOTICES: dict[tuple[str, str], str] = {
    ("application", "approve"): "approval",
    ("application", "approve_with_conditions"): "approval",
    ("application", "reject"): "rejection",
    ("change", "approve"): "change_notice",
    ("change", "approve_with_conditions"): "change_notice",
    ("change", "reject"): "rejection",
}

NOTICE_NAMES = {
    "approval": "承認書",
    "rejection": "不承認書",
    "change_notice": "取扱変更通知書",
    "withdrawal": "辞退届（様式第6号）",
    "change_application": "変更申請書（様式第5号）",
    "value_added_certificate": "付加価値割合証明書（様式第2号）",
}

#: Forms supplied to a supplier pre-filled from an approved case (no decision behind them).
SUPPLIER_FORMS = ("change_application", "withdrawal", "value_added_certificate")


def form_values(case: Case, suffix: str) -> dict[str, Any]:
    for d in case.documents:
        for rec in d.records:
            if rec.form and rec.form.endswith(suffix):
                return {f.key: f.value for f in rec.fields}
    return {}


def case_values(case: Case) -> dict[str, Any]:
    """The case's values as one record, through the same contract as ``madoguchi generate``
    (``generate.records.merge_documents``): the program's forms first, values by form under
    ``forms``, fields still marked for review (not corrected by a clerk) under ``review_fields``."""
    from generate.records import merge_documents

    documents = [
        {
            "form": rec.form,
            "fields": {
                f.key: {"value": f.value, "review": bool(f.review and not f.corrected)} for f in rec.fields
            },
        }
        for d in case.documents
        for rec in d.records
    ]
    return merge_documents(documents)


def approval_warnings(case: Case, kind: str = "approval") -> list[Any]:
    """What the approver must confirm before ``kind`` is issued for ``case`` (its failed checks,
    its fields still marked for review and not corrected): ``generate.acts.act_warnings`` on
    the record the notice would be filled from, as ``madoguchi generate --force`` asks. For
    the web's confirmation screen (a list of ``ActWarning``: kind, subject, message)."""
    from generate.acts import act_warnings

    record = case_values(case)
    record["findings"] = [
        {"rule": f.rule, "status": f.status, "message": f.message, "clause": f.clause} for f in case.findings
    ]
    return list(act_warnings(kind, record))


def _approval_of(case: Case) -> tuple[Decision | None, Notice | None]:
    decision = next((d for d in reversed(case.decisions) if d.outcome != "reject"), None)
    notice = next((n for n in case.notices if n.kind == "approval" and n.status == "done"), None)
    return decision, notice


def notice_record(case: Case, notice: Notice) -> dict[str, Any]:
    """The record a notice is filled from: the case's values, the decision, the approval."""
    source = case.parent if case.kind in ("change", "withdrawal") and case.parent is not None else case
    record = case_values(source)
    if case is not source:
        own = case_values(case)
        record.update({k: v for k, v in own.items() if k != "forms" and v not in (None, "", [])})
        record["forms"] = {**record["forms"], **own["forms"]}
    record["case_id"] = case.id
    decision = next((d for d in case.decisions if d.id == notice.decision_id), None)
    if decision is not None:
        record["decision"] = decision.outcome
        record["decision_date"] = decision.decided_at.date().isoformat()
        record["conditions"] = [c.strip() for c in decision.conditions.splitlines() if c.strip()]
        reasons = [r.strip() for r in decision.reasons.splitlines() if r.strip()]
        if reasons and notice.kind == "rejection":
            record["reasons"] = reasons
        if case.kind == "change":
            record["change_content"] = change_content(case)
            record["change_reason"] = reasons or ["変更申請書（様式第5号）による"]
    record["findings"] = [
        {"rule": f.rule, "status": f.status, "message": f.message, "clause": f.clause} for f in case.findings
    ]
    approval, approval_notice = _approval_of(source)
    if approval is not None:
        record.setdefault("approval_date", approval.decided_at.date().isoformat())
    if approval_notice is not None and approval_notice.doc_number:
        record.setdefault("approval_number", approval_notice.doc_number)
    if notice.kind == "value_added_certificate":
        record.update({k: v for k, v in form_values(source, ".form2").items() if v not in (None, "", [])})
    return record


def change_content(case: Case) -> dict[str, Any]:
    """The changed items of a change application (様式第5号): label → new value."""
    from web.services import get_form

    out: dict[str, Any] = {}
    for d in case.documents:
        for rec in d.records:
            if not (rec.form and rec.form.endswith(".form5")):
                continue
            try:
                form = get_form(rec.form)
            except MadoguchiError:
                form = None
            labels = {f.key: r.label + (f"（{f.label}）" if f.label and f.label != r.label else "")
                      for r in (form.rows() if form else []) for f in r.fields}
            for f in rec.fields:
                if (f.key.startswith("new_") or f.key == "other_changes") and f.value not in (None, "", []):
                    out[labels.get(f.key, f.key)] = f.value
    return out


def decide(s: Session, case: Case, outcome: str, conditions: str, reasons: str, user_id: int) -> Decision:
    """Record a decision, set the case's status, queue its notice (caller commits, then enqueues)."""
    decision = Decision(
        case_id=case.id, outcome=outcome, conditions=conditions, reasons=reasons, decided_by=user_id
    )
    s.add(decision)
    s.flush()
    case.status = {"approve": "approved", "approve_with_conditions": "approved_with_conditions"}.get(
        outcome, "rejected"
    )
    case.updated_at = utcnow()
    if case.kind == "withdrawal":
        case.status = "withdrawn" if outcome != "reject" else "rejected"
        if outcome != "reject" and case.parent is not None:
            case.parent.status = "withdrawn"
            for cert in s.query(Certificate).filter_by(case_id=case.parent.id, withdrawn_at=None):
                cert.withdrawn_at = utcnow()
        return decision
    kind = DECISION_NOTICES.get((case.kind, outcome))
    if kind:
        s.add(Notice(case_id=case.id, decision_id=decision.id, kind=kind, created_by=user_id))
    if case.kind == "application" and outcome != "reject":
        values = form_values(case, ".form2")
        if values:
            rec = next((r for d in case.documents for r in d.records if r.form and r.form.endswith(".form2")), None)
            s.add(
                Certificate(
                    case_id=case.id, program_id=case.program_id, record_id=rec.id if rec else None,
                    data=certificate_facts(case, values),
                )
            )
    return decision


def certificate_facts(case: Case, values: dict[str, Any]) -> dict[str, Any]:
    """The facts of an accepted 様式第2号 that the city publishes (004 4 ※)."""
    app_values = case_values(case)
    facts = {k: v for k, v in values.items() if v not in (None, "", [])}
    facts.setdefault("product_name", app_values.get("product_name") or case.product_name)
    facts.setdefault("manufacturer_name", case.applicant_name)
    if "general_retail_price" not in facts and app_values.get("retail_price_incl_tax") is not None:
        facts["general_retail_price"] = app_values["retail_price_incl_tax"]
    facts["municipality"] = case.program.municipality
    return facts


def render_pending(rt: Runtime, notice_ids: list[int]) -> None:
    """Render queued notices. A notice's number is taken in the transaction that records its
    finished files on its row (``DbNumberSequence(on_commit=…)``): a failed rendering spends
    no number and leaves the row in error."""
    for notice_id in notice_ids:
        with rt.db.session() as s:
            notice = s.get(Notice, notice_id)
            if notice is None or notice.status == "done":
                continue
            case = notice.case
            record = notice_record(case, notice)
            kind, program_id = notice.kind, case.program_id
            outdir = rt.storage.notice_dir(case.id) / str(notice.id)

        def record_done(session: Session, issued: Any, notice_id: int = notice_id) -> None:
            row = session.get(Notice, notice_id)
            first = issued[0] if issued else None
            if row is None or first is None:
                return
            row.files = {k: rt.storage.relative(p) for k, p in first.paths.items()}
            row.doc_number = first.doc_number
            row.status = "done"
            row.error_message = None

        numbers = DbNumberSequence(rt.db, on_commit=record_done)
        from web.tasks import today_jst

        # the supplier's own forms leave their date blank for the supplier to write
        issue = None if kind in SUPPLIER_FORMS else today_jst()
        render_and_record(
            rt, notice_id,
            lambda: services.render_notices(kind, program_id, [record], outdir, numbers=numbers, issue_date=issue),  # noqa: B023 - called at once
        )


def render_and_record(rt: Runtime, notice_id: int, render: Callable[[], list[Any]], doc_number: str | None = None) -> None:
    """Run ``render`` for one notice and record on its row what came of it: the files and the
    number (``doc_number`` when the notice was numbered before, else the rendering's), or the
    failure's one-line reason."""
    try:
        rendered = render()
    except MadoguchiError as exc:
        _failed(rt, notice_id, f"{exc.code}: {exc.message}")
        return
    except Exception as exc:
        log.exception("notice %s failed", notice_id)
        _failed(rt, notice_id, f"内部エラー ({type(exc).__name__})")
        return
    with rt.db.session() as s:
        notice = s.get(Notice, notice_id)
        assert notice is not None
        first = rendered[0] if rendered else None
        notice.files = {k: rt.storage.relative(p) for k, p in (first.files.items() if first else [])}
        notice.doc_number = doc_number if doc_number is not None else (first.doc_number if first else None)
        notice.status = "done" if notice.files else "error"
        notice.error_message = None if notice.files else "no file was produced"
    log.info("notice %s rendered", notice_id)


def _failed(rt: Runtime, notice_id: int, message: str) -> None:
    with rt.db.session() as s:
        notice = s.get(Notice, notice_id)
        if notice is not None:
            notice.status = "error"
            notice.error_message = message
