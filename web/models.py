"""The database tables (SQLAlchemy 2). Migrations in ``web/migrations`` follow these models.

Personal data (names, addresses, field values) lives in ``cases.applicant_name``,
``suppliers``, ``record_fields`` and ``field_corrections``; it is never copied into
``audit_events`` or the application log, which hold ids only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSON, list[Any]: JSON}


ROLES = ("clerk", "approver", "admin")

#: Case statuses, in the order the dashboard shows them, with their Japanese names.
CASE_STATUSES: dict[str, str] = {
    "processing": "読取中",
    "review": "確認待ち",
    "approved": "承認",
    "approved_with_conditions": "条件付承認",
    "rejected": "不承認",
    "withdrawn": "辞退",
    "error": "読取エラー",
}
CASE_KINDS: dict[str, str] = {"application": "申請", "change": "変更申請", "withdrawal": "辞退届"}
OUTCOMES: dict[str, str] = {
    "approve": "承認",
    "approve_with_conditions": "条件付承認",
    "reject": "不承認",
}


class Program(Base):
    __tablename__ = "programs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    municipality: Mapped[str] = mapped_column(String(100))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="clerk")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bumped when the password changes or the account is disabled: older sessions end.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The printed first password (or one an admin set) must be changed before anything else.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: Login refused until then after too many wrong passwords (web.security).
    locked_until: Mapped[datetime | None]

    def can(self, role: str) -> bool:
        """Whether the user may act as ``role``: every role works cases, only approvers decide."""
        if role == "clerk":
            return self.role in ROLES
        if role == "approver":
            return self.role == "approver"
        return self.role == role


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class Supplier(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    representative: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_updated", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    kind: Mapped[str] = mapped_column(String(16), default="application")
    #: The approved case that a change application or withdrawal refers to.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    status: Mapped[str] = mapped_column(String(32), default="processing")
    #: Read from the application once extracted; shown on the dashboard and searched.
    applicant_name: Mapped[str] = mapped_column(String(200), default="")
    product_name: Mapped[str] = mapped_column(String(200), default="")
    #: The checks' hint: approve, reject or needs_review.
    decision_hint: Mapped[str | None] = mapped_column(String(32))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The clerk in charge (担当).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    program: Mapped[Program] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    supplier: Mapped[Supplier | None] = relationship()
    parent: Mapped[Case | None] = relationship(remote_side=[id])
    documents: Mapped[list[Document]] = relationship(back_populates="case", order_by="Document.id")
    findings: Mapped[list[FindingRow]] = relationship(back_populates="case", order_by="FindingRow.id")
    decisions: Mapped[list[Decision]] = relationship(back_populates="case", order_by="Decision.id")
    notices: Mapped[list[Notice]] = relationship(back_populates="case", order_by="Notice.id")


class Document(Base):
    """One uploaded file. The original is stored untouched under its SHA-256."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    #: queued, processing, done, error
    status: Mapped[str] = mapped_column(String(16), default="queued")
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    #: Times the reading was started (a task redelivered after a worker died counts again).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the current reading started: a reading older than the time limit is stuck.
    started_at: Mapped[datetime | None]
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="documents")
    records: Mapped[list[Record]] = relationship(back_populates="document", order_by="Record.id")


class Record(Base):
    """One document found in a file (a scan may hold several), with its form and fields."""

    __tablename__ = "records"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    form: Mapped[str | None] = mapped_column(String(64))
    first_page: Mapped[int] = mapped_column(Integer, default=1)
    pages: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="records")
    fields: Mapped[list[RecordField]] = relationship(back_populates="record", order_by="RecordField.id")


class RecordField(Base):
    __tablename__ = "record_fields"
    __table_args__ = (UniqueConstraint("record_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    #: The current value (after corrections), JSON-typed as in DESIGN 4.2.
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    #: The value as extracted, kept when a clerk corrects it.
    extracted_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    page: Mapped[int | None] = mapped_column(Integer)
    bbox: Mapped[list[Any] | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16), default="ocr")
    review: Mapped[bool] = mapped_column(Boolean, default=False)
    raw: Mapped[str | None] = mapped_column(Text)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A clerk checked the value against the page and confirmed it (確認済み).
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]

    record: Mapped[Record] = relationship(back_populates="fields")
    corrections: Mapped[list[FieldCorrection]] = relationship(
        back_populates="field", order_by="FieldCorrection.id"
    )


class FieldCorrection(Base):
    """Every change a clerk made to a field, oldest first."""

    __tablename__ = "field_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("record_fields.id"), index=True)
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    field: Mapped[RecordField] = relationship(back_populates="corrections")
    user: Mapped[User | None] = relationship()


class FindingRow(Base):
    """A requirement check's finding for a case (the latest run of the checks)."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    clause: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="findings")


class Decision(Base):
    """A decision on a case. At most one per case stands (``undone_at`` is null): the database
    refuses a second one (a partial unique index, on SQLite and PostgreSQL alike)."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index(
            "uq_decisions_standing",
            "case_id",
            unique=True,
            sqlite_where=text("undone_at IS NULL"),
            postgresql_where=text("undone_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    #: approve, approve_with_conditions, reject
    outcome: Mapped[str] = mapped_column(String(32))
    conditions: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Warnings the approver saw and confirmed (findings not met, fields marked for review).
    acknowledged: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    #: An undone decision (an explicit, audited act): its notices are withdrawn.
    undone_at: Mapped[datetime | None]
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undo_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    case: Mapped[Case] = relationship(back_populates="decisions")
    user: Mapped[User] = relationship(foreign_keys=[decided_by])


class Notice(Base):
    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    kind: Mapped[str] = mapped_column(String(32))
    #: pending (being generated in the background), done, error
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error_message: Mapped[str | None] = mapped_column(Text)
    doc_number: Mapped[str | None] = mapped_column(String(64))
    #: Paths relative to the files directory, by format (docx, pdf).
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="notices")


class NumberCounter(Base):
    """Last document number issued per program and fiscal year (never repeats)."""

    __tablename__ = "number_counters"

    program_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Certificate(Base):
    """An accepted value-added certificate (様式第2号), published by the city (004 4 ※)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"))
    #: The published facts (product, manufacturer, percentage, place, retail price …).
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]


class Publication(Base):
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str] = mapped_column(ForeignKey("programs.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    count: Mapped[int] = mapped_column(Integer, default=0)
    #: Paths relative to the files directory, by format (html, csv, csv_sjis, pdf).
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Job(Base):
    """An extraction requested through the API and run in the background."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: queued, running, done, error
    status: Mapped[str] = mapped_column(String(16), default="queued")
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    program_id: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer, default=0)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did or saw what, when. Ids only: never names or values."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    user: Mapped[User | None] = relationship()


class UserSession(Base):
    """A server-side login session: the cookie carries its random id, the table its SHA-256.
    Logout, a password change or disabling the account ends it."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    """Every login attempt, for throttling by account and by address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"), Index("ix_login_attempts_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseMemo(Base):
    """A clerk's memo on a case, shown on its timeline."""

    __tablename__ = "case_memos"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(Text)

    user: Mapped[User | None] = relationship()


# --- mail in and out, retention (issue 25) -------------------------------------------------

#: What became of a received message, with its Japanese name.
MAIL_STATUSES: dict[str, str] = {
    "case": "案件化",
    "queued": "振分待ち",
    "assigned": "手動で案件化",
    "discarded": "対応不要",
}


class MailMessage(Base):
    """A received message (IMAP, the inbox folder or an uploaded ``.eml``), kept as the original.

    ``subject`` and ``sender`` are personal data: they are blanked when the message is purged.
    """

    __tablename__ = "mail_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the Message-ID (of the bytes when there is none): a message read twice is one.
    message_key: Mapped[str] = mapped_column(String(64), unique=True)
    #: imap, folder, upload
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    #: Why a message waits for a clerk: no_program, malformed, no_items …
    reason: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(300), default="")
    sender: Mapped[str] = mapped_column(String(300), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    attachments: Mapped[int] = mapped_column(Integer, default=0)
    program_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purged_at: Mapped[datetime | None]


class OutgoingMail(Base):
    """A notice sent to the applicant by e-mail: each attempt counted, the failure kept."""

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    to_address: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    #: pending, sent, error
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255))
    #: The message as sent, relative to the files directory.
    file: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class DestructionReport(Base):
    """One purge run: what kinds of things were destroyed, as counts (廃棄報告)."""

    __tablename__ = "destruction_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[str | None] = mapped_column(String(64))
    run_at: Mapped[datetime] = mapped_column(default=utcnow)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The written notice, by format, relative to the files directory.
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CasePurge(Base):
    """A case whose personal data was destroyed; what the municipality keeps stays."""

    __tablename__ = "case_purges"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    purged_at: Mapped[datetime] = mapped_column(default=utcnow)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("destruction_reports.id"))
