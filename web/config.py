"""Settings of the web service, read from the environment (pydantic-settings).

Everything has a default that lets ``make run`` start with nothing else running: a data
directory ``./var`` holding the SQLite database, the stored files, Celery's filesystem broker
and its SQLite result store.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MADOGUCHI_", extra="ignore", frozen=True)

    #: Where the database, the uploaded originals, page images, notices and the broker live.
    #: It is never served as static files.
    data_dir: Path = Path("var")
    #: SQLAlchemy URL; a SQLite file in the data directory when unset.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "MADOGUCHI_DATABASE_URL")
    )
    #: Signs the session cookie; generated once and kept in the data directory when unset.
    secret_key: str | None = None
    celery_broker_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CELERY_BROKER_URL", "MADOGUCHI_CELERY_BROKER_URL")
    )
    celery_result_backend: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CELERY_RESULT_BACKEND", "MADOGUCHI_CELERY_RESULT_BACKEND"),
    )
    #: The queue Madoguchi's tasks go to (one broker may serve several installations).
    celery_queue: str = "madoguchi"
    #: Run background tasks in the calling thread (tests only).
    celery_eager: bool = False
    #: Worker processes started by ``madoguchi serve`` (0: as many as CPUs).
    worker_concurrency: int = 0
    #: Start a worker beside the web server in ``madoguchi serve``.
    start_worker: bool = True
    #: Largest upload accepted, in bytes, and most pages in one file.
    max_upload_bytes: int = 20 * 1024 * 1024
    max_pages: int = 100
    #: The API answers at once for files up to this many pages and bytes; larger ones get a job.
    sync_max_pages: int = 2
    sync_max_bytes: int = 4 * 1024 * 1024
    #: Processes that read API uploads answered at once (0: in the web server's own threads).
    #: ``madoguchi serve`` uses one per CPU when this is unset.
    api_processes: int | None = None
    #: API job results (personal data) are deleted this many hours after they are done.
    job_retention_hours: int = 24
    #: Session cookie only over HTTPS (browsers treat http://127.0.0.1 and localhost as secure).
    cookie_secure: bool = True
    session_hours: int = 8
    #: Password of the first account (``admin``); generated and printed when unset.
    admin_password: str | None = None
    #: werkzeug password hash method for new passwords (tests use a cheap one).
    password_hash_method: str = "scrypt"
    #: Render page images for review at this resolution.
    page_image_dpi: int = 110
    #: Run Alembic migrations when the application starts.
    migrate_on_start: bool = True

    # --- the clerk's desk under real use (issue 26) ---
    #: The first account must change its printed password before anything else.
    admin_must_change_password: bool = True
    #: Passwords: at least this long, not a common one (web.security).
    password_min_length: int = 12
    #: Login throttling: this many failures in the window lock the account (or the address).
    login_window_minutes: int = 15
    login_max_failures_account: int = 5
    login_max_failures_address: int = 20
    #: API: requests per minute per token, and uploads read at once before 503 (0: no limit).
    api_rate_per_minute: int = 120
    api_queue_limit: int = 16
    #: The queue scans' page reading (OCR) goes to, served by worker processes at lower priority.
    celery_ocr_queue: str = "madoguchi-ocr"
    #: Niceness of the worker processes that read scans (API requests keep the CPU first).
    worker_nice: int = 10
    #: Seconds a page task may run (soft limit; the hard limit is 30 s more), and retries after it.
    page_time_limit: int = 300
    document_time_limit: int = 900
    task_max_retries: int = 2

    # --- mail in and out, retention (issue 25) ---
    #: The mailbox read over IMAP; unset: ``.eml`` files dropped in the inbox folder are read.
    imap_host: str | None = None
    imap_port: int = 993
    #: ``ssl`` (IMAPS, port 993), ``starttls`` or ``plain`` (a test server on this machine).
    imap_security: str = "ssl"
    imap_user: str = ""
    imap_password: str = ""
    imap_folder: str = "INBOX"
    #: The folder of ``.eml`` files read when no IMAP host is set (default: data dir/mail/inbox).
    mail_inbox_dir: Path | None = None
    #: How often the Celery beat task reads the mailbox, in seconds (0: never by itself).
    mail_poll_seconds: int = 60
    #: The SMTP server notices are sent through; unset: messages are written to the outbox folder.
    smtp_host: str | None = None
    smtp_port: int = 587
    #: ``starttls``, ``ssl`` or ``plain``.
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = "madoguchi@localhost"
    #: Where outgoing mail is written without an SMTP server (default: data dir/mail/outbox).
    mail_outbox_dir: Path | None = None
    #: Attempts to send one message, and the seconds before the first retry (doubling).
    smtp_attempts: int = 3
    smtp_retry_seconds: float = 2.0
    smtp_timeout: float = 30.0
    #: Messages a clerk marked 対応不要 are purged this many days after they came (0: never).
    mail_queue_retention_days: int = 90
    #: Hours of the day (JST) the scheduled purge runs at.
    purge_hour: int = 3
    #: Run the Celery beat schedule (mail polling, purge) inside the worker ``serve`` starts.
    beat: bool = True

    @property
    def data_path(self) -> Path:
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def files_dir(self) -> Path:
        return self.data_path / "files"

    @property
    def db_url(self) -> str:
        """The database URL; ``postgresql://`` URLs are driven by psycopg 3."""
        url = self.database_url or f"sqlite:///{self.data_path / 'madoguchi.db'}"
        for plain in ("postgresql://", "postgres://"):
            if url.startswith(plain):
                return "postgresql+psycopg://" + url[len(plain):]
        return url

    @property
    def broker_url(self) -> str:
        return self.celery_broker_url or "filesystem://localhost//"

    @property
    def broker_dir(self) -> Path:
        return self.data_path / "broker"

    @property
    def result_backend(self) -> str:
        return self.celery_result_backend or f"db+sqlite:///{self.data_path / 'celery-results.db'}"

    def session_secret(self) -> str:
        """The configured secret, or one generated on first start and kept (0600) in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_path / "secret_key"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip()

    def workers(self) -> int:
        return self.worker_concurrency or (os.cpu_count() or 1)

    @property
    def mail_inbox_path(self) -> Path:
        return self.mail_inbox_dir or self.data_path / "mail" / "inbox"

    @property
    def mail_outbox_path(self) -> Path:
        return self.mail_outbox_dir or self.data_path / "mail" / "outbox"
