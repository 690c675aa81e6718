"""The clerk's desk: the case list (filters, sorting, search, CSV), a case's timeline with memos
and the clerk in charge (担当), and the audit log searched and exported.

CSV files are UTF-8 with a BOM (Excel opens them as UTF-8) and every export is audited.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import selectinload

from web import audit
from web.auth import role_required
from web.clerk import PAGE_SIZE, _active_programs, _case_or_404, bp
from web.db_session import db_session
from web.models import (
    CASE_KINDS,
    CASE_STATUSES,
    AuditEvent,
    Case,
    CaseMemo,
    User,
    utcnow,
)

JST_OFFSET = timedelta(hours=9)

#: Sort keys of the case list → (column, label).
SORTS: dict[str, tuple[Any, str]] = {
    "updated": (Case.updated_at, "更新日時"),
    "created": (Case.created_at, "受付日時"),
    "id": (Case.id, "案件番号"),
    "applicant": (Case.applicant_name, "事業者名"),
    "status": (Case.status, "状態"),
}

#: Audit actions in the words a clerk uses.
ACTION_NAMES: dict[str, str] = {
    "login": "ログイン", "login.failed": "ログイン失敗", "login.lockout": "ログイン停止（失敗の連続）",
    "login.refused_locked": "停止中のログイン試行", "logout": "ログアウト",
    "case.list": "案件一覧の表示", "case.view": "案件の表示", "case.export": "案件一覧の書き出し",
    "case.decide": "決定", "case.decide.warned": "決定（確認を求めた）", "case.decide.refused": "決定（受け付けず）",
    "case.undo": "決定の取消", "case.memo": "メモ", "case.assign": "担当の設定",
    "document.upload": "書類の取込", "document.download": "原本のダウンロード", "document.retry": "書類の読み直し",
    "document.remove": "書類の取り除き", "page.view": "ページ画像の表示",
    "record.view": "読取結果の表示", "record.correct": "読取結果の修正", "record.confirm": "読取結果の確認",
    "record.set_form": "書類の種類の設定",
    "notice.download": "通知書のダウンロード", "notice.request": "様式の作成",
    "certificate.list": "証明一覧の表示", "certificate.publish": "証明一覧の公表",
    "user.create": "アカウント作成", "user.disable": "アカウント停止", "user.password": "パスワード変更",
    "token.create": "APIトークン発行", "token.revoke": "APIトークン失効", "forbidden": "権限のない操作",
    "audit.view": "監査ログの表示", "audit.export": "監査ログの書き出し",
    "api.extract": "API読取", "api.job.result": "API結果の取得",
}
OBJECT_NAMES = {"case": "案件", "document": "書類", "record": "読取結果", "notice": "通知書", "user": "アカウント",
                "token": "APIトークン", "certificate": "証明", "publication": "公表", "username": "ユーザー名",
                "route": "画面", "file": "ファイル", "job": "API処理"}


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _utc_start(day: date) -> datetime:
    """Midnight JST of ``day``, as the UTC instant stored in the database."""
    return datetime.combine(day, time(0)) - JST_OFFSET


@dataclass
class CaseFilters:
    status: str | None
    program: str | None
    q: str
    assignee: str | None
    date_from: date | None
    date_to: date | None
    sort: str
    desc: bool

    @classmethod
    def from_args(cls, args: Any) -> CaseFilters:
        sort = args.get("sort") if args.get("sort") in SORTS else "updated"
        return cls(
            status=args.get("status") if args.get("status") in CASE_STATUSES else None,
            program=args.get("program") or None,
            q=unicodedata.normalize("NFKC", args.get("q", "")).strip(),
            assignee=args.get("assignee") or None,
            date_from=_day(args.get("from")),
            date_to=_day(args.get("to")),
            sort=sort,
            desc=args.get("dir", "desc") != "asc",
        )

    def params(self, **change: Any) -> dict[str, Any]:
        """Query parameters of these filters (with ``change``), for links."""
        values: dict[str, Any] = {
            "status": self.status, "program": self.program, "q": self.q or None, "assignee": self.assignee,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sort": None if self.sort == "updated" else self.sort, "dir": None if self.desc else "asc",
        }
        values.update(change)
        return {k: v for k, v in values.items() if v is not None}

    def apply(self, stmt: Select[Any], with_status: bool = True) -> Select[Any]:
        if with_status and self.status:
            stmt = stmt.where(Case.status == self.status)
        if self.program:
            stmt = stmt.where(Case.program_id == self.program)
        if self.assignee == "none":
            stmt = stmt.where(Case.assignee_id.is_(None))
        elif self.assignee and self.assignee.isdigit():
            stmt = stmt.where(Case.assignee_id == int(self.assignee))
        if self.date_from:
            stmt = stmt.where(Case.created_at >= _utc_start(self.date_from))
        if self.date_to:
            stmt = stmt.where(Case.created_at < _utc_start(self.date_to + timedelta(days=1)))
        if self.q:
            like = f"%{self.q}%"
            conds = [Case.applicant_name.ilike(like), Case.product_name.ilike(like)]
            if self.q.lstrip("#").isdigit():
                conds.append(Case.id == int(self.q.lstrip("#")))
            stmt = stmt.where(or_(*conds))
        return stmt

    def ordered(self, stmt: Select[Any]) -> Select[Any]:
        column = SORTS[self.sort][0]
        return stmt.order_by(column.desc() if self.desc else column.asc(), Case.id.desc() if self.desc else Case.id)


def _clerks() -> list[User]:
    return list(db_session().scalars(select(User).where(User.active).order_by(User.id)))


@bp.get("/")
@role_required("clerk")
def dashboard() -> Any:
    s = db_session()
    filters = CaseFilters.from_args(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    stmt = filters.apply(select(Case).options(selectinload(Case.program), selectinload(Case.assignee)))
    total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    cases = list(s.scalars(filters.ordered(stmt).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    counted = filters.apply(select(Case.status, func.count()).group_by(Case.status), with_status=False)
    counts = dict(s.execute(counted).all())
    if cases:
        audit.record("case.list", "case", None, ids=[c.id for c in cases], searched=bool(filters.q))
    return render_template(
        "clerk/dashboard.html",
        cases=cases, counts=counts, total=total, f=filters, page=page,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), programs=_active_programs(), clerks=_clerks(),
        sorts={k: label for k, (_, label) in SORTS.items()},
        # kept for links built the old way
        status=filters.status, program=filters.program, q=filters.q,
    )


def _csv(rows: list[list[Any]], name: str) -> Response:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    body = "\ufeff" + buf.getvalue()
    resp = Response(body.encode("utf-8"), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f"attachment; filename={name}"
    return resp


def _jst(value: datetime | None) -> str:
    from web.app import JST

    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=utcnow().tzinfo)
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")


@bp.get("/cases.csv")
@role_required("clerk")
def cases_csv() -> Any:
    """The case list as filtered, every page of it (at most 10,000 rows)."""
    s = db_session()
    filters = CaseFilters.from_args(request.args)
    stmt = filters.apply(select(Case).options(selectinload(Case.program), selectinload(Case.assignee)))
    cases = list(s.scalars(filters.ordered(stmt).limit(10000)))
    rows: list[list[Any]] = [["案件番号", "制度", "種別", "事業者", "商品", "状態", "担当", "受付日時", "更新日時"]]
    for c in cases:
        rows.append([c.id, c.program.municipality, CASE_KINDS.get(c.kind, c.kind), c.applicant_name, c.product_name,
                     CASE_STATUSES.get(c.status, c.status),
                     (c.assignee.display_name or c.assignee.username) if c.assignee else "",
                     _jst(c.created_at), _jst(c.updated_at)])
    audit.record("case.export", "case", None, ids=[c.id for c in cases], count=len(cases))
    return _csv(rows, f"cases-{date.today():%Y%m%d}.csv")


# --- a case's timeline, memos, the clerk in charge --------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime
    who: str
    what: str
    memo: str | None = None


def timeline(case: Case) -> list[TimelineEntry]:
    """What happened to the case, oldest first: uploads, readings, corrections, decisions,
    notices, memos (views are left out: the audit log has them)."""
    s = db_session()
    doc_ids = [str(d.id) for d in case.documents]
    rec_ids = [str(r.id) for d in case.documents for r in d.records]
    notice_ids = [str(n.id) for n in case.notices]
    quiet = ("case.view", "case.list", "record.view", "page.view")
    events = s.scalars(
        select(AuditEvent)
        .options(selectinload(AuditEvent.user))
        .where(
            or_(
                and_(AuditEvent.object_type == "case", AuditEvent.object_id == str(case.id)),
                and_(AuditEvent.object_type == "document", AuditEvent.object_id.in_(doc_ids or ["-"])),
                and_(AuditEvent.object_type == "record", AuditEvent.object_id.in_(rec_ids or ["-"])),
                and_(AuditEvent.object_type == "notice", AuditEvent.object_id.in_(notice_ids or ["-"])),
            ),
            AuditEvent.action.not_in(quiet),
        )
        .order_by(AuditEvent.at)
        .limit(500)
    )
    out = [
        TimelineEntry(e.at, (e.user.display_name or e.user.username) if e.user else "システム",
                      ACTION_NAMES.get(e.action, "操作"))
        for e in events
    ]
    for d in case.documents:
        if d.processed_at:
            state = "読取完了" if d.status == "done" else "読取エラー"
            out.append(TimelineEntry(d.processed_at, "システム", f"{state}（{d.filename}）"))
    for n in case.notices:
        if n.status == "done":
            out.append(TimelineEntry(n.created_at, "システム", "通知書を作成" + (f"（{n.doc_number}）" if n.doc_number else "")))
    memos = s.scalars(select(CaseMemo).options(selectinload(CaseMemo.user)).where(CaseMemo.case_id == case.id))
    for m in memos:
        out.append(TimelineEntry(m.at, (m.user.display_name or m.user.username) if m.user else "", "メモ", m.body))
    return sorted(out, key=lambda e: e.at if e.at.tzinfo else e.at.replace(tzinfo=utcnow().tzinfo))


@bp.post("/cases/<int:case_id>/memos")
@role_required("clerk")
def add_memo(case_id: int) -> Any:
    case = _case_or_404(case_id)
    body = request.form.get("body", "").strip()
    if not body or len(body) > 4000:
        flash("メモを入力してください（4000文字まで）。", "error")
        return redirect(url_for("clerk.case", case_id=case.id) + "#timeline")
    s = db_session()
    memo = CaseMemo(case_id=case.id, user_id=g.user.id, body=body)
    s.add(memo)
    s.commit()
    audit.record("case.memo", "case", case.id, memo=memo.id)
    return redirect(url_for("clerk.case", case_id=case.id) + "#timeline")


@bp.post("/cases/<int:case_id>/assign")
@role_required("clerk")
def assign(case_id: int) -> Any:
    case = _case_or_404(case_id)
    s = db_session()
    raw = request.form.get("assignee", "")
    user = s.get(User, int(raw)) if raw.isdigit() else None
    if raw and (user is None or not user.active):
        abort(400)
    case.assignee_id = user.id if user else None
    s.commit()
    audit.record("case.assign", "case", case.id, assignee=case.assignee_id)
    return redirect(url_for("clerk.case", case_id=case.id))


# --- the audit log ----------------------------------------------------------------------------


def _audit_query(args: Any) -> tuple[Select[Any], dict[str, str]]:
    form = {k: args.get(k, "").strip() for k in ("user", "action", "object", "from", "to")}
    stmt = select(AuditEvent).options(selectinload(AuditEvent.user))
    if form["user"]:
        uid = db_session().scalar(select(User.id).where(User.username == form["user"]))
        stmt = stmt.where(AuditEvent.user_id == (uid or -1))
    if form["action"]:
        matching = [k for k, v in ACTION_NAMES.items() if form["action"] in v or form["action"] == k]
        stmt = stmt.where(AuditEvent.action.in_(matching or [form["action"]]))
    if form["object"]:
        kind, _, oid = form["object"].partition(":")
        kinds = [k for k, v in OBJECT_NAMES.items() if v == kind or k == kind]
        if oid:
            stmt = stmt.where(AuditEvent.object_type.in_(kinds or [kind]), AuditEvent.object_id == oid)
        else:
            stmt = stmt.where(AuditEvent.object_id == kind.lstrip("#"))
    day_from, day_to = _day(form["from"]), _day(form["to"])
    if day_from:
        stmt = stmt.where(AuditEvent.at >= _utc_start(day_from))
    if day_to:
        stmt = stmt.where(AuditEvent.at < _utc_start(day_to + timedelta(days=1)))
    return stmt.order_by(AuditEvent.id.desc()), form


@bp.get("/admin/audit")
@role_required("admin")
def audit_log() -> Any:
    stmt, form = _audit_query(request.args)
    events = list(db_session().scalars(stmt.limit(200)))
    audit.record("audit.view", None, None, searched=any(form.values()))
    return render_template("clerk/audit.html", events=events, form=form, action_names=ACTION_NAMES,
                           object_names=OBJECT_NAMES)


@bp.get("/admin/audit.csv")
@role_required("admin")
def audit_csv() -> Any:
    stmt, _ = _audit_query(request.args)
    events = list(db_session().scalars(stmt.limit(100000)))
    rows: list[list[Any]] = [["日時", "利用者", "APIトークン", "操作", "操作（コード）", "対象", "対象番号", "IPアドレス", "詳細"]]
    import json

    for e in events:
        rows.append([_jst(e.at), e.user.username if e.user else "", e.token_id or "", ACTION_NAMES.get(e.action, ""),
                     e.action, OBJECT_NAMES.get(e.object_type or "", e.object_type or ""), e.object_id or "",
                     e.ip or "", json.dumps(e.detail, ensure_ascii=False)])
    audit.record("audit.export", None, None, count=len(events))
    return _csv(rows, f"audit-{date.today():%Y%m%d}.csv")
