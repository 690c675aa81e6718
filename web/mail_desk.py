"""The clerk's mail pages: the queue of messages no program claimed, ``.eml`` upload, a
message and its original, giving a message its program, and sending a case's notice by mail.

Every page that shows personal data records an audit event naming the objects by id.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from forms.errors import InputError, MadoguchiError
from web import audit
from web.auth import role_required
from web.db_session import db_session, runtime
from web.mail_catalogue import mail_form
from web.mail_intake import QUEUE_REASONS, assign, discard, ingest_message, mail_path
from web.mail_outgoing import SENDABLE, draft, queue_notice_mail
from web.mail_parse import MalformedMessage, parse_message
from web.models import MAIL_STATUSES, Case, MailMessage, Notice, OutgoingMail, Program

bp = Blueprint("mail", __name__)

#: The Japanese names of this issue's audit actions and objects, for the audit log and the case
#: timeline (web.desk keeps the names; these are added to its tables when the app loads).
ACTION_NAMES = {
    "mail.receive": "メールの受信", "mail.case": "メールから案件を作成", "mail.list": "メール一覧の表示",
    "mail.view": "受信メールの表示", "mail.download": "受信メールのダウンロード", "mail.discard": "メールを対応不要に",
    "mail.case_view": "案件のメールの表示", "mail.queue": "通知書のメール送信を依頼",
    "mail.send": "通知書をメールで送信", "mail.send_failed": "通知書のメール送信に失敗", "mail.retry": "メールの再送信",
    "retention.purge": "保存期間を過ぎた個人情報等の廃棄", "retention.preview": "廃棄予定の表示",
    "retention.run": "廃棄の実行", "retention.report": "廃棄報告のダウンロード",
    "export.ministry": "総務省申出用一覧の書き出し",
}
OBJECT_NAMES = {"mail": "メール", "destruction_report": "廃棄報告", "program": "制度"}


def register_names() -> None:
    try:
        from web import desk
    except ImportError:  # the desk's pages are not in this build
        return
    for table, names in ((getattr(desk, "ACTION_NAMES", None), ACTION_NAMES),
                         (getattr(desk, "OBJECT_NAMES", None), OBJECT_NAMES)):
        if isinstance(table, dict):
            for key, name in names.items():
                table.setdefault(key, name)

OUTGOING_STATUSES = {"pending": "送信中", "sent": "送信済み", "error": "送信失敗"}


def _programs() -> list[Program]:
    return list(db_session().scalars(select(Program).where(Program.active).order_by(Program.id)))


@bp.get("/")
@role_required("clerk")
def queue() -> Any:
    s = db_session()
    show_all = request.args.get("all") == "1"
    stmt = select(MailMessage).order_by(MailMessage.id.desc()).limit(200)
    if not show_all:
        stmt = stmt.where(MailMessage.status == "queued")
    messages = list(s.scalars(stmt))
    unsent = _unsent_notices()
    if messages:
        audit.record("mail.list", "mail", None, ids=[m.id for m in messages])
    return render_template("mail/queue.html", messages=messages, show_all=show_all, reasons=QUEUE_REASONS,
                           statuses=MAIL_STATUSES, unsent=unsent, max_mb=runtime().settings.max_upload_bytes >> 20)


def _unsent_notices() -> list[Notice]:
    """Decision notices made and not yet sent by mail (newest first)."""
    s = db_session()
    sent = select(OutgoingMail.notice_id).where(OutgoingMail.status.in_(("sent", "pending")),
                                                OutgoingMail.notice_id.is_not(None))  # NOT IN meets no NULL
    stmt = (
        select(Notice)
        .where(Notice.status == "done", Notice.kind.in_(SENDABLE), Notice.id.not_in(sent))
        .order_by(Notice.id.desc())
        .limit(50)
    )
    return list(s.scalars(stmt))


@bp.post("/upload")
@role_required("clerk")
def upload() -> Any:
    rt = runtime()
    files = [f for f in request.files.getlist("files") if f and f.filename]
    if not files:
        flash(".eml ファイルを選んでください。", "error")
        return redirect(url_for("mail.queue"))
    cases: list[int] = []
    for f in files:
        raw = f.read(rt.settings.max_upload_bytes * 2 + 1)
        if len(raw) > rt.settings.max_upload_bytes * 2:
            flash(f"{f.filename}: 大きすぎます。", "error")
            continue
        if not raw:
            flash(f"{f.filename}: 空のファイルです。", "error")
            continue
        result = ingest_message(rt, raw, "upload", g.user.id)
        if result.duplicate:
            flash(f"{f.filename}: 既に受け付けたメールです（受信 #{result.mail_id}）。", "info")
        elif result.case_id is not None:
            cases.append(result.case_id)
        else:
            flash(f"{f.filename}: 振分待ちに入れました（{QUEUE_REASONS.get(result.reason or '', '')}）。", "info")
    if cases:
        flash(f"{len(cases)} 件の案件を受け付けました。", "info")
    if len(cases) == 1:
        return redirect(url_for("clerk.case", case_id=cases[0]))
    return redirect(url_for("mail.queue"))


def _message_or_404(mail_id: int) -> MailMessage:
    mail = db_session().get(MailMessage, mail_id)
    if mail is None:
        abort(404)
    return mail


@bp.get("/messages/<int:mail_id>")
@role_required("clerk")
def message(mail_id: int) -> Any:
    mail = _message_or_404(mail_id)
    parsed, error = None, None
    if mail.purged_at is None:
        try:
            parsed = parse_message(mail_path(runtime(), mail).read_bytes())
        except MalformedMessage as exc:
            error = exc.message
        except FileNotFoundError:
            error = "原本がありません"
    audit.record("mail.view", "mail", mail.id)
    return render_template("mail/message.html", mail=mail, parsed=parsed, error=error, reasons=QUEUE_REASONS,
                           statuses=MAIL_STATUSES, programs=_programs())


@bp.get("/messages/<int:mail_id>/original")
@role_required("clerk")
def original(mail_id: int) -> Any:
    mail = _message_or_404(mail_id)
    path = mail_path(runtime(), mail)
    if mail.purged_at is not None or not path.exists():
        abort(404)
    audit.record("mail.download", "mail", mail.id)
    return send_file(path, mimetype="message/rfc822", as_attachment=True, download_name=f"mail-{mail.id}.eml")


@bp.post("/messages/<int:mail_id>/assign")
@role_required("clerk")
def assign_program(mail_id: int) -> Any:
    _message_or_404(mail_id)
    try:
        case_id = assign(runtime(), mail_id, request.form.get("program", ""), g.user.id)
    except InputError as exc:
        flash(exc.message, "error")
        return redirect(url_for("mail.message", mail_id=mail_id))
    flash("メールを案件にしました。", "info")
    return redirect(url_for("clerk.case", case_id=case_id))


@bp.post("/messages/<int:mail_id>/discard")
@role_required("clerk")
def discard_message(mail_id: int) -> Any:
    _message_or_404(mail_id)
    try:
        discard(runtime(), mail_id, g.user.id)
    except InputError as exc:
        flash(exc.message, "error")
    return redirect(url_for("mail.queue"))


# --- a case's mail: what came in, the notices to send, what went out --------------------------


@bp.get("/cases/<int:case_id>")
@role_required("clerk")
def case_mail(case_id: int) -> Any:
    s = db_session()
    case = s.get(Case, case_id)
    if case is None:
        abort(404)
    received = list(s.scalars(select(MailMessage).where(MailMessage.case_id == case_id)))
    outgoing = list(s.scalars(select(OutgoingMail).where(OutgoingMail.case_id == case_id).order_by(OutgoingMail.id)))
    drafts: list[dict[str, Any]] = []
    for notice in case.notices:
        if notice.kind not in SENDABLE:
            continue
        try:
            drafts.append({"notice": notice, "draft": draft(runtime(), s, case, notice), "error": None})
        except MadoguchiError as exc:
            drafts.append({"notice": notice, "draft": None, "error": exc.message})
    audit.record("mail.case_view", "mail", None, case=case.id)  # a view: kept off the case's timeline
    return render_template("mail/case.html", case=case, received=received, outgoing=outgoing, drafts=drafts,
                           outgoing_statuses=OUTGOING_STATUSES, items=_body_items(case))


def _body_items(case: Case) -> list[dict[str, Any]]:
    """The items read from the body of the case's mail, in the mail form's order, with their
    printed labels, confidence and review marks (missing items too)."""
    rows: list[dict[str, Any]] = []
    for doc in case.documents:
        for rec in doc.records:
            if not (rec.form and rec.form.endswith(".mail")):
                continue
            try:
                form = mail_form(rec.form)
            except MadoguchiError:
                continue
            fields = {f.key: f for f in rec.fields}
            for item in form.items:
                f = fields.get(item.key)
                rows.append({"label": item.label, "required": item.required, "field": f,
                             "review": f is None or f.review})
    return rows


@bp.post("/cases/<int:case_id>/send")
@role_required("clerk")
def send_notice(case_id: int) -> Any:
    from web.tasks import send_notice_mail

    notice_id = request.form.get("notice", type=int)
    if notice_id is None:
        abort(400)
    try:
        out_id = queue_notice_mail(runtime(), case_id, notice_id, g.user.id)
    except InputError as exc:
        flash(exc.message, "error")
        return redirect(url_for("mail.case_mail", case_id=case_id))
    send_notice_mail.delay(out_id)
    flash("通知書をメールで送信しています。", "info")
    return redirect(url_for("mail.case_mail", case_id=case_id))


@bp.post("/outgoing/<int:outgoing_id>/retry")
@role_required("clerk")
def retry(outgoing_id: int) -> Any:
    from web.tasks import send_notice_mail

    s = db_session()
    out = s.get(OutgoingMail, outgoing_id)
    if out is None or out.status != "error":
        abort(404)
    out.status = "pending"
    s.commit()
    audit.record("mail.retry", "case", out.case_id, outgoing=out.id)
    send_notice_mail.delay(out.id)
    return redirect(url_for("mail.case_mail", case_id=out.case_id))
