"""The clerks' pages: dashboard, upload, review, decision, notices, publication, accounts.

Every page that shows personal data (names, addresses, field values, page images, originals,
notices) records an audit event naming the objects shown, by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from PIL import Image
from sqlalchemy import select

from forms.errors import InputError, MadoguchiError
from forms.schema import FieldDecl, FormDecl
from web import audit, services
from web.auth import create_user, hash_password, issue_token, role_required
from web.db_session import db_session, runtime
from web.models import (
    OUTCOMES,
    ROLES,
    ApiToken,
    Case,
    Certificate,
    Document,
    FieldCorrection,
    Notice,
    Program,
    Publication,
    Record,
    RecordField,
    User,
    utcnow,
)
from web.notices import SUPPLIER_FORMS
from web.storage import safe_name
from web.values import form_text, parse_value

bp = Blueprint("clerk", __name__)

PAGE_SIZE = 50
#: Findings shown worst first.
FINDING_ORDER = {"fail": 0, "warn": 1, "pass": 2, "not_applicable": 3}


#: What a clerk reads for a document that could not be read (the engine's own messages are
#: for logs and the API; the Japanese ones written by the web layer are shown as they are).
DOCUMENT_ERRORS: dict[str, str] = {
    "bad_input": "ファイルを読み取れません。",
    "unsupported_type": "対応していないファイル形式です（PDF・PNG・JPEG・TIFF・Word に対応）。",
    "empty_file": "空のファイルです。",
    "too_large": "ファイルが大きすぎます。",
    "too_many_pages": "ページ数が上限を超えています。",
    "corrupt_file": "ファイルが壊れているため読み取れません。",
    "image_too_small": "画像が小さすぎて読み取れません。解像度を上げてスキャンしてください。",
    "encrypted_file": "パスワード付きのファイルは読み取れません。",
    "no_pages": "ページがありません。",
    "zip_bomb": "ファイルの内容が異常なため読み取りを中止しました。",
    "page_too_large": "ページが大きすぎて読み取れません。",
    "too_complex": "ページの内容が複雑すぎて読み取れません。",
    "over_budget": "読み取りに時間がかかりすぎるため中止しました。",
    "program_missing": "読み取りに必要なプログラムが見つかりません。管理者に連絡してください。",
    "program_timeout": "読み取りに必要なプログラムが時間内に終わりませんでした。",
    "program_failed": "読み取りに必要なプログラムが失敗しました。",
    "internal": "内部エラーのため読み取れませんでした。",
}


def document_error(code: str | None, message: str | None) -> str:
    """The reason a document failed, in Japanese."""
    if code in DOCUMENT_ERRORS:
        return DOCUMENT_ERRORS[code]
    text = message or ""
    return text if any(ord(c) > 0x3000 for c in text) else "読み取れませんでした。"


def _case_or_404(case_id: int) -> Case:
    case = db_session().get(Case, case_id)
    if case is None:
        abort(404)
    return case


def _active_programs() -> list[Program]:
    return list(db_session().scalars(select(Program).where(Program.active).order_by(Program.id)))


# --- dashboard ---------------------------------------------------------------------------


# --- upload ------------------------------------------------------------------------------


@bp.get("/upload")
@role_required("clerk")
def upload_form() -> Any:
    return render_template("clerk/upload.html", programs=_active_programs(), parent=None, **_limits())


def _limits() -> dict[str, int]:
    settings = runtime().settings
    return {"max_mb": settings.max_upload_bytes // (1024 * 1024), "max_pages": settings.max_pages}


@dataclass
class Checked:
    name: str
    data: bytes
    sniffed: services.Sniffed


def _check_upload(upload: Any) -> Checked | str:
    """Judge one uploaded file by its content, within the limits; an error message otherwise."""
    rt = runtime()
    name = safe_name(upload.filename or "file")
    data = upload.read(rt.settings.max_upload_bytes + 1)
    try:
        if not data:
            raise InputError(f"{name}: 空のファイルです")
        sniffed = services.sniff(data, name, rt.settings.max_upload_bytes, rt.settings.max_pages)
    except InputError as exc:
        return exc.message if exc.message.startswith(name) else f"{name}: {exc.message}"
    return Checked(name, data, sniffed)


def _store(case: Case, checked: Checked) -> Document:
    digest, _ = runtime().storage.save_original(checked.data, checked.sniffed.kind)
    doc = Document(
        case_id=case.id,
        filename=checked.name,
        media_type=checked.sniffed.media_type,
        sha256=digest,
        size=len(checked.data),
        pages=checked.sniffed.pages,
        uploaded_by=g.user.id,
    )
    db_session().add(doc)
    return doc


def _check_all(uploads: list[Any]) -> tuple[list[Checked], list[str]]:
    checked: list[Checked] = []
    errors: list[str] = []
    for upload_ in uploads:
        result = _check_upload(upload_)
        if isinstance(result, str):
            errors.append(result)
        else:
            checked.append(result)
    return checked, errors


@bp.post("/upload")
@role_required("clerk")
def upload() -> Any:
    s = db_session()
    program_id = request.form.get("program", "")
    if s.get(Program, program_id) is None:
        return _upload_answer([], ["制度を選んでください。"], 400)
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        return _upload_answer([], ["ファイルを選んでください。"], 400)
    separate = request.form.get("separate") == "1"
    parent_id = request.form.get("parent", type=int)
    parent = s.get(Case, parent_id) if parent_id else None
    kind = request.form.get("kind", "application")
    if kind not in ("application", "change", "withdrawal") or (kind != "application" and parent is None):
        abort(400)
    if parent is not None:
        program_id = parent.program_id

    checked, errors = _check_all(files)
    cases: list[Case] = []
    docs: list[Document] = []
    for item in checked:
        if not cases or separate:
            case = Case(program_id=program_id, kind=kind, parent_id=parent.id if parent else None,
                        status="processing", created_by=g.user.id)
            s.add(case)
            s.flush()
            cases.append(case)
        docs.append(_store(cases[-1], item))
    s.commit()
    for doc in docs:
        audit.record("document.upload", "document", doc.id, case=doc.case_id, pages=doc.pages)
    _enqueue([d.id for d in docs])
    return _upload_answer(cases, errors, 200 if cases else 422)


def _enqueue(document_ids: list[int]) -> None:
    from web.tasks import process_document

    for doc_id in document_ids:
        process_document.delay(doc_id)


def _upload_answer(cases: list[Case], errors: list[str], status: int) -> Any:
    target = url_for("clerk.case", case_id=cases[0].id) if len(cases) == 1 else url_for("clerk.dashboard")
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"cases": [c.id for c in cases], "errors": errors, "redirect": target}), status
    for e in errors:
        flash(e, "error")
    if not cases:
        return redirect(url_for("clerk.upload_form"))
    flash(f"{len(cases)} 件の案件を受け付けました。読取中です。", "info")
    return redirect(target)


@bp.post("/cases/<int:case_id>/documents")
@role_required("clerk")
def add_documents(case_id: int) -> Any:
    case = _case_or_404(case_id)
    s = db_session()
    checked, errors = _check_all([f for f in request.files.getlist("files") if f and f.filename])
    docs = [_store(case, item) for item in checked]
    if docs and case.status in ("review", "error"):
        case.status = "processing"
    s.commit()
    for doc in docs:
        audit.record("document.upload", "document", doc.id, case=case.id, pages=doc.pages)
    _enqueue([d.id for d in docs])
    return _upload_answer([case], errors, 200 if docs else 422)


@bp.post("/documents/<int:document_id>/retry")
@role_required("clerk")
def retry_document(document_id: int) -> Any:
    """Read a document again (it failed, or its reading seems stuck)."""
    s = db_session()
    doc = s.get(Document, document_id)
    if doc is None:
        abort(404)
    case = doc.case
    if case.status not in ("processing", "review", "error"):
        flash("決定済みの案件の書類は読み直せません。", "error")
        return redirect(url_for("clerk.case", case_id=case.id))
    doc.status, doc.attempts, doc.pages_done = "queued", 0, 0
    doc.error_code = doc.error_message = None
    case.status = "processing"
    s.commit()
    audit.record("document.retry", "document", doc.id, case=case.id)
    _enqueue([doc.id])
    flash("書類をもう一度読み取ります。", "info")
    return redirect(url_for("clerk.case", case_id=case.id))


@bp.post("/documents/<int:document_id>/remove")
@role_required("clerk")
def remove_document(document_id: int) -> Any:
    """Take a document out of its case (uploaded by mistake); the stored original stays."""
    from web.tasks import recheck_case

    s = db_session()
    doc = s.get(Document, document_id)
    if doc is None:
        abort(404)
    case = doc.case
    if case.status not in ("processing", "review", "error"):
        flash("決定済みの案件の書類は取り除けません。", "error")
        return redirect(url_for("clerk.case", case_id=case.id))
    for rec in list(doc.records):
        for f in list(rec.fields):
            for c in list(f.corrections):
                s.delete(c)
            s.delete(f)
        s.delete(rec)
    remaining = [d for d in case.documents if d.id != doc.id]
    s.delete(doc)
    case.status = "processing" if remaining else "error"  # the checks below settle it
    s.commit()
    audit.record("document.remove", "document", document_id, case=case.id)
    recheck_case(runtime(), case.id)
    flash("書類を案件から取り除きました（原本の記録は残ります）。", "info")
    return redirect(url_for("clerk.case", case_id=case.id))


# --- a case ------------------------------------------------------------------------------


@bp.get("/cases/<int:case_id>")
@role_required("clerk")
def case(case_id: int) -> Any:
    case = _case_or_404(case_id)
    s = db_session()
    followups = list(s.scalars(select(Case).where(Case.parent_id == case.id).order_by(Case.id)))
    audit.record("case.view", "case", case.id)
    from web.decisions import standing_decision, warnings_for

    from web.desk import _clerks, timeline

    return render_template(
        "clerk/case.html",
        case=case,
        followups=followups,
        timeline=timeline(case),
        clerks=_clerks(),
        form_titles={f.id: f.title for f in services.forms().values()},
        document_error=document_error,
        standing=standing_decision(case),
        warnings=g.pop("decide_warnings", None),
        open_warnings=warnings_for(case),
        decide_form=g.pop("decide_form", {}),
        reject_reasons=[f"{f.message}（{f.clause}）" for f in case.findings if f.status == "fail"],
        outcomes=OUTCOMES,
        supplier_forms=SUPPLIER_FORMS,
        findings=sorted(case.findings, key=lambda f: (FINDING_ORDER.get(f.status, 9), f.id)),
    )


@bp.get("/cases/<int:case_id>/progress")
@role_required("clerk")
def progress(case_id: int) -> Any:
    """Status of the case's documents and notices, for the page's polling (no personal data)."""
    case = _case_or_404(case_id)
    docs = [
        {
            "id": d.id,
            "status": d.status,
            "pages": d.pages,
            "pages_done": d.pages_done,
            "error": d.error_code,
        }
        for d in case.documents
    ]
    notices = [{"id": n.id, "kind": n.kind, "status": n.status, "formats": sorted(n.files)} for n in case.notices]
    # the case is still 読取中 for a moment after its last document is read (the checks run)
    busy = case.status == "processing" or any(d["status"] in ("queued", "processing") for d in docs) or any(
        n["status"] == "pending" for n in notices
    )
    return jsonify({"case": case.id, "status": case.status, "documents": docs, "notices": notices, "done": not busy})


@bp.get("/documents/<int:document_id>/original")
@role_required("clerk")
def original(document_id: int) -> Any:
    doc = db_session().get(Document, document_id)
    if doc is None:
        abort(404)
    rt = runtime()
    kind = {v: k for k, v in services.MEDIA_TYPES.items()}.get(doc.media_type, "bin")
    path = rt.storage.original_path(doc.sha256, kind)
    audit.record("document.download", "document", doc.id)
    return send_file(path, mimetype=doc.media_type, as_attachment=True, download_name=doc.filename)


@bp.get("/documents/<int:document_id>/pages/<int:page>.png")
@role_required("clerk")
def page_image(document_id: int, page: int) -> Any:
    doc = db_session().get(Document, document_id)
    if doc is None or not 1 <= page <= max(doc.pages, 1):
        abort(404)
    rt = runtime()
    out = rt.storage.page_image(doc.sha256, page)
    if not out.exists():
        kind = {v: k for k, v in services.MEDIA_TYPES.items()}.get(doc.media_type, "bin")
        services.render_page_png(rt.storage.original_path(doc.sha256, kind), page, out, rt.settings.page_image_dpi)
    audit.record("page.view", "document", doc.id, page=page)
    return send_file(out, mimetype="image/png", max_age=0)


# --- review ------------------------------------------------------------------------------


def _form_of(record: Record) -> FormDecl | None:
    if not record.form:
        return None
    try:
        return services.get_form(record.form)
    except MadoguchiError:
        return None


def _decl(form: FormDecl | None, key: str) -> FieldDecl:
    if form is not None:
        try:
            return form.field(key)
        except KeyError:
            pass
    return FieldDecl(key=key if key[:1].isalpha() and key.isascii() else "field", type="text")


def field_labels(form: FormDecl | None) -> dict[str, str]:
    """The printed label of each field: the row's label and the field's own sub-label."""
    labels: dict[str, str] = {}
    for row in form.rows() if form else []:
        for f in row.fields:
            own = f.label if f.label and f.label != row.label else ""
            parts = [str(row.number) if row.number else "", row.label, own]
            labels[f.key] = " ".join(p for p in parts if p)
    return labels


@dataclass
class Unread:
    """A declared field the reading did not find: shown empty for the clerk to type in."""

    key: str
    value: Any = None
    extracted_value: Any = None
    confidence: float = 0.0
    page: int | None = None
    bbox: list[Any] | None = None
    source: str = "unread"
    review: bool = True
    raw: str | None = None
    corrected: bool = False
    confirmed_at: Any = None
    corrections: list[Any] = field(default_factory=list)
    unread: bool = True


def _ordered_fields(record: Record, form: FormDecl | None = None) -> list[Any]:
    """Every declared field (those not read shown empty) and any other field read: those still
    marked for review first, then the unread, then by confidence, lowest first."""
    found = {f.key: f for f in record.fields}
    rows: list[Any] = [found.get(d.key) or Unread(d.key) for d in (form.fields() if form else [])]
    declared = {r.key for r in rows}
    rows += [f for f in record.fields if f.key not in declared]

    def order(f: Any) -> tuple[int, float, int]:
        marked = f.review and not f.corrected and f.confirmed_at is None and not getattr(f, "unread", False)
        return (0 if marked else 1 if getattr(f, "unread", False) else 2, f.confidence, getattr(f, "id", 0) or 0)

    return sorted(rows, key=order)


def _page_views(record: Record) -> list[dict[str, Any]]:
    """The pages of a record with their size in points (for the SVG overlay of field boxes)."""
    rt = runtime()
    doc = record.document
    views: list[dict[str, Any]] = []
    if doc.media_type == services.MEDIA_TYPES["docx"]:
        return views  # a DOCX has no page image; its fields are shown alone
    last = record.first_page + max(record.pages, 1) - 1
    for page in range(record.first_page, last + 1):
        path = rt.storage.page_image(doc.sha256, page)
        width, height = 595.0, 842.0
        if path.exists():
            with Image.open(path) as im:
                width = im.width * 72 / rt.settings.page_image_dpi
                height = im.height * 72 / rt.settings.page_image_dpi
        views.append({"page": page, "width": round(width, 1), "height": round(height, 1),
                      "url": url_for("clerk.page_image", document_id=doc.id, page=page)})
    return views


@bp.get("/records/<int:record_id>")
@role_required("clerk")
def review(record_id: int) -> Any:
    record = db_session().get(Record, record_id)
    if record is None:
        abort(404)
    form = _form_of(record)
    audit.record("record.view", "record", record.id, case=record.document.case_id)
    return render_template(
        "clerk/review.html",
        record=record,
        case=record.document.case,
        form=form,
        fields=_ordered_fields(record, form),
        form_choices=[(f.id, f"{f.title}{'（' + f.form_number + '）' if f.form_number else ''}")
                      for f in services.program_forms(record.document.case.program_id)],
        decl=lambda key: _decl(form, key),
        labels=field_labels(form),
        text=form_text,
        pages=_page_views(record),
        errors=g.pop("field_errors", {}),
        typed=g.pop("field_typed", {}),
    )


@bp.post("/records/<int:record_id>")
@role_required("clerk")
def save_review(record_id: int) -> Any:
    """Corrections and confirmations: any declared field may be typed in, read or not."""
    s = db_session()
    record = s.get(Record, record_id)
    if record is None:
        abort(404)
    case = record.document.case
    if case.status not in ("review", "processing", "error"):
        flash("決定済みの案件は修正できません。決定を取り消すと修正できます。", "error")
        return redirect(url_for("clerk.review", record_id=record.id))
    form = _form_of(record)
    existing = {f.key: f for f in record.fields}
    keys = [d.key for d in form.fields()] if form else []
    keys += [k for k in existing if k not in keys]
    confirm = set(request.form.getlist("confirm"))
    errors: dict[str, str] = {}
    changed: list[str] = []
    confirmed: list[str] = []
    for key in keys:
        name = f"f.{key}"
        if name not in request.form and f"present.{key}" not in request.form:
            continue
        decl = _decl(form, key)
        try:
            new = parse_value(decl, request.form.get(name), request.form.getlist(name))
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        fld = existing.get(key)
        if fld is None:
            if new in (None, "", []):
                continue
            fld = RecordField(record_id=record.id, key=key, value=None, extracted_value=None, confidence=0.0,
                              source="clerk", review=False, corrected=False)
            s.add(fld)
            s.flush()
        if new != fld.value:
            s.add(FieldCorrection(field_id=fld.id, old_value=fld.value, new_value=new, user_id=g.user.id))
            fld.value = new
            fld.corrected = True
            fld.review = False
            changed.append(key)
        elif key in confirm and fld.confirmed_at is None:
            fld.confirmed_by = g.user.id
            fld.confirmed_at = utcnow()
            confirmed.append(key)
    s.commit()
    if confirmed:
        audit.record("record.confirm", "record", record.id, keys=confirmed)
    if changed:
        audit.record("record.correct", "record", record.id, keys=changed)
    if changed or confirmed:
        from web.tasks import recheck_case

        recheck_case(runtime(), case.id)
        parts = [f"{len(changed)} 項目を修正"] if changed else []
        parts += [f"{len(confirmed)} 項目を確認済みに"] if confirmed else []
        flash("、".join(parts) + "し、要件を再確認しました。", "info")
    if errors:
        g.field_errors = errors
        g.field_typed = {key: request.form.get(f"f.{key}", "") for key in errors}
        flash("入力に誤りがある項目があります。", "error")
        return review(record_id), 422
    if not changed and not confirmed:
        flash("変更はありません。", "info")
    return redirect(url_for("clerk.review", record_id=record.id))


@bp.post("/records/<int:record_id>/form")
@role_required("clerk")
def set_record_form(record_id: int) -> Any:
    """The clerk says what the document is: it is read again as that form."""
    from web.tasks import reread_record

    s = db_session()
    record = s.get(Record, record_id)
    if record is None:
        abort(404)
    case = record.document.case
    form_id = request.form.get("form", "")
    if form_id not in {f.id for f in services.program_forms(case.program_id)}:
        abort(400)
    if case.status not in ("review", "processing", "error"):
        flash("決定済みの案件は修正できません。", "error")
        return redirect(url_for("clerk.review", record_id=record.id))
    case.status = "processing"
    s.commit()
    audit.record("record.set_form", "record", record.id, form=form_id, was=record.form)
    reread_record.delay(record.id, form_id)
    flash("書類の種類を設定しました。その様式として読み直しています。", "info")
    return redirect(url_for("clerk.review", record_id=record.id))


# --- decision and follow-ups -----------------------------------------------------------


@bp.post("/cases/<int:case_id>/decide")
@role_required("approver")
def decide(case_id: int) -> Any:
    from web import decisions
    from web.tasks import generate_notices

    s = db_session()
    case = _case_or_404(case_id)
    outcome = request.form.get("outcome", "")
    if outcome not in OUTCOMES:
        abort(400)
    try:
        decision = decisions.decide(
            s, case.id, outcome, user_id=g.user.id,
            conditions=request.form.get("conditions", ""), reasons=request.form.get("reasons", ""),
            confirmed=request.form.get("confirm") == "1",
        )
        s.commit()
    except decisions.NeedsConfirmation as exc:
        s.rollback()
        audit.record("case.decide.warned", "case", case.id, outcome=outcome)
        return _decision_refused(case.id, exc, warnings=exc.data.get("warnings"))
    except decisions.DecisionError as exc:
        s.rollback()
        if isinstance(exc, decisions.AlreadyDecided):
            audit.record("case.decide.refused", "case", case.id, outcome=outcome)
        return _decision_refused(case.id, exc)
    audit.record("case.decide", "case", case.id, outcome=outcome, decision=decision.id,
                 acknowledged=bool(decision.acknowledged))
    pending = [n.id for n in s.get(Case, case.id).notices if n.status == "pending"]
    if pending:
        generate_notices.delay(pending)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"decision": decision.id, "status": s.get(Case, case.id).status})
    flash(f"{OUTCOMES[outcome]}として決定しました。通知書を作成しています。", "info")
    return redirect(url_for("clerk.case", case_id=case.id))


def _decision_refused(case_id: int, exc: MadoguchiError, warnings: dict[str, Any] | None = None) -> Any:
    """The case page again with the reason (and the warnings to confirm), or JSON."""
    if request.accept_mimetypes.best == "application/json":
        body: dict[str, Any] = {"error": {"code": exc.code, "message": exc.message}}
        if warnings:
            body["warnings"] = warnings
        return jsonify(body), exc.http_status
    flash(exc.message, "error")
    g.decide_form = {k: request.form.get(k, "") for k in ("outcome", "conditions", "reasons")}
    g.decide_warnings = warnings
    db_session().expire_all()
    return case(case_id), exc.http_status


@bp.post("/cases/<int:case_id>/undo")
@role_required("approver")
def undo_decision(case_id: int) -> Any:
    """Undo the standing decision: an explicit act with a reason; its notices are withdrawn."""
    from web import decisions

    s = db_session()
    _case_or_404(case_id)
    try:
        decision = decisions.undo(s, case_id, user_id=g.user.id, reason=request.form.get("reason", ""))
        s.commit()
    except decisions.DecisionError as exc:
        s.rollback()
        flash(exc.message, "error")
        return redirect(url_for("clerk.case", case_id=case_id))
    audit.record("case.undo", "case", case_id, decision=decision.id)
    flash("決定を取り消しました。通知書は取消済みとなり、案件は確認待ちに戻りました。", "info")
    return redirect(url_for("clerk.case", case_id=case_id))


@bp.get("/cases/<int:case_id>/followup")
@role_required("clerk")
def followup(case_id: int) -> Any:
    """Upload a change application or a withdrawal for an approved case."""
    case = _case_or_404(case_id)
    kind = request.args.get("kind")
    if kind not in ("change", "withdrawal") or case.status not in ("approved", "approved_with_conditions"):
        abort(400)
    return render_template("clerk/upload.html", programs=[case.program], parent=case, kind=kind, **_limits())


@bp.post("/cases/<int:case_id>/supplier-form")
@role_required("clerk")
def supplier_form(case_id: int) -> Any:
    """Prepare a pre-filled form for the supplier (様式第5号, 第6号, 第2号) from an approved case."""
    from web.tasks import generate_notices

    s = db_session()
    case = _case_or_404(case_id)
    kind = request.form.get("kind", "")
    if kind not in SUPPLIER_FORMS or case.status not in ("approved", "approved_with_conditions"):
        abort(400)
    notice = Notice(case_id=case.id, kind=kind, created_by=g.user.id)
    s.add(notice)
    s.commit()
    audit.record("notice.request", "notice", notice.id, kind=kind, case=case.id)
    generate_notices.delay([notice.id])
    return redirect(url_for("clerk.case", case_id=case.id))


@bp.get("/notices/<int:notice_id>.<fmt>")
@role_required("clerk")
def notice_file(notice_id: int, fmt: str) -> Any:
    notice = db_session().get(Notice, notice_id)
    if notice is None or fmt not in notice.files:
        abort(404)
    rt = runtime()
    path = rt.storage.resolve(notice.files[fmt])
    audit.record("notice.download", "notice", notice.id, format=fmt)
    mimetype = "application/pdf" if fmt == "pdf" else services.MEDIA_TYPES["docx"]
    name = f"{notice.kind}-{notice.case_id}-{notice.id}.{fmt}"
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=name)


@bp.post("/notices/<int:notice_id>/retry")
@role_required("clerk")
def notice_retry(notice_id: int) -> Any:
    from web.tasks import generate_notices

    s = db_session()
    notice = s.get(Notice, notice_id)
    if notice is None or notice.status != "error":
        abort(404)
    notice.status = "pending"
    notice.error_message = None
    s.commit()
    generate_notices.delay([notice.id])
    return redirect(url_for("clerk.case", case_id=notice.case_id))


# --- value-added certificates ----------------------------------------------------------------


@bp.get("/certificates")
@role_required("clerk")
def certificates() -> Any:
    s = db_session()
    certs = list(s.scalars(select(Certificate).where(Certificate.withdrawn_at.is_(None)).order_by(Certificate.id)))
    pubs = list(s.scalars(select(Publication).order_by(Publication.id.desc()).limit(20)))
    audit.record("certificate.list", "certificate", None, ids=[c.id for c in certs])
    return render_template("clerk/certificates.html", certs=certs, pubs=pubs, programs=_active_programs())


@bp.post("/certificates/publish")
@role_required("approver")
def publish() -> Any:
    s = db_session()
    rt = runtime()
    program = s.get(Program, request.form.get("program", ""))
    if program is None:
        abort(400)
    certs = list(
        s.scalars(
            select(Certificate)
            .where(Certificate.program_id == program.id, Certificate.withdrawn_at.is_(None))
            .order_by(Certificate.accepted_at)
        )
    )
    pub = Publication(program_id=program.id, published_by=g.user.id, count=len(certs))
    s.add(pub)
    s.flush()
    from web.tasks import today_jst

    today = today_jst()
    rows = [{**c.data, "published_date": today.isoformat()} for c in certs]
    written = services.publish_certificates(program.id, rows, rt.storage.publication_dir(program.id, pub.id), today)
    pub.files = {k: rt.storage.relative(p) for k, p in written.items()}
    s.commit()
    audit.record("certificate.publish", "publication", pub.id, program=program.id, count=len(certs))
    flash(f"{program.municipality}の付加価値割合証明の一覧（{len(certs)} 件）を公表しました。", "info")
    return redirect(url_for("clerk.certificates"))


# --- accounts and audit -----------------------------------------------------------------


@bp.get("/admin/users")
@role_required("admin")
def users() -> Any:
    return _users_page(new_token=None)


def _users_page(new_token: str | None) -> Any:
    """The accounts and tokens page; a token just made is shown once."""
    s = db_session()
    return render_template(
        "clerk/users.html",
        users=list(s.scalars(select(User).order_by(User.id))),
        tokens=list(s.scalars(select(ApiToken).order_by(ApiToken.id))),
        roles=ROLES,
        new_token=new_token,
    )


@bp.post("/admin/users")
@role_required("admin")
def create_account() -> Any:
    s = db_session()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    role = request.form.get("role", "clerk")
    if not username or role not in ROLES:
        flash("ユーザー名、パスワード、役割を入力してください。", "error")
        return redirect(url_for("clerk.users"))
    from web.security import password_problem

    problem = password_problem(password, username, runtime().settings.password_min_length)
    if problem:
        flash(problem, "error")
        return redirect(url_for("clerk.users"))
    if s.scalar(select(User).where(User.username == username)):
        flash("そのユーザー名は使われています。", "error")
        return redirect(url_for("clerk.users"))
    user = create_user(s, username, password, role, request.form.get("display_name", "").strip())
    s.commit()
    audit.record("user.create", "user", user.id, role=role)
    flash("アカウントを作成しました。", "info")
    return redirect(url_for("clerk.users"))


@bp.post("/admin/users/<int:user_id>/disable")
@role_required("admin")
def disable_account(user_id: int) -> Any:
    s = db_session()
    user = s.get(User, user_id)
    if user is None or user.id == g.user.id:
        abort(400)
    user.active = False
    user.session_version += 1
    from web.security import end_all_sessions

    end_all_sessions(s, user.id)
    s.commit()
    audit.record("user.disable", "user", user.id)
    return redirect(url_for("clerk.users"))


@bp.post("/admin/tokens")
@role_required("admin")
def create_token() -> Any:
    s = db_session()
    name = request.form.get("name", "").strip() or "API"
    token = issue_token(s, g.user, name)
    s.commit()
    audit.record("token.create", "user", g.user.id)
    return _users_page(new_token=token)


@bp.post("/admin/tokens/<int:token_id>/revoke")
@role_required("admin")
def revoke_token(token_id: int) -> Any:
    s = db_session()
    token = s.get(ApiToken, token_id)
    if token is None:
        abort(404)
    token.revoked = True
    s.commit()
    audit.record("token.revoke", "token", token.id)
    return redirect(url_for("clerk.users"))


@bp.route("/account/password", methods=["GET", "POST"])
@role_required("clerk")
def change_password() -> Any:
    from web.auth import authenticate, login_user
    from web.security import end_all_sessions, password_problem

    rt = runtime()
    if request.method == "POST":
        s = db_session()
        user = authenticate(s, g.user.username, request.form.get("current", ""))
        new = request.form.get("new", "")
        problem = None
        if user is None:
            problem = "現在のパスワードが違います。"
        elif new != request.form.get("confirm"):
            problem = "新しいパスワードが確認欄と一致しません。"
        elif new == request.form.get("current"):
            problem = "現在と違うパスワードにしてください。"
        else:
            problem = password_problem(new, user.username, rt.settings.password_min_length)
        if user is None or problem:
            flash(problem or "", "error")
            return render_template("clerk/password.html", min_length=rt.settings.password_min_length), 400
        user.password_hash = hash_password(new)
        user.session_version += 1
        user.must_change_password = False
        ended = end_all_sessions(s, user.id)
        s.commit()
        login_user(user)
        from web.bootstrap import initial_credentials

        initial_credentials(rt)  # forgets the printed password now that it no longer works
        audit.record("user.password", "user", user.id, sessions_ended=ended)
        flash("パスワードを変更しました。ほかの端末のログインは終了しました。", "info")
        return redirect(url_for("clerk.dashboard"))
    return render_template("clerk/password.html", min_length=rt.settings.password_min_length)


# The desk's pages (case list, CSV, timeline, memos, audit log) are on this blueprint too.
from web import desk  # noqa: E402,F401
