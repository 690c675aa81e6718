"""The Flask application factory: configuration, database, security, Celery, blueprints."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import Flask, Response, g
from flask_wtf.csrf import CSRFProtect

from web.config import Settings
from web.db_session import Runtime, close_db_session

JST = timezone(timedelta(hours=9), "JST")

csrf = CSRFProtect()


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the application. ``overrides`` replace settings (tests)."""
    settings = settings or Settings()
    if overrides:
        settings = settings.model_copy(update=overrides)
    rt = Runtime.from_settings(settings)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.session_secret(),
        SESSION_COOKIE_NAME="madoguchi_session",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        # The clerk's upload form takes several files at once; each is checked on its own.
        MAX_CONTENT_LENGTH=settings.max_upload_bytes * 10 + 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=False,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["madoguchi"] = rt

    from web import auth, tasks

    auth.configure_hashing(settings.password_hash_method)
    tasks.configure(settings, rt)

    from web.bootstrap import bootstrap

    bootstrap(rt)

    csrf.init_app(app)
    _register(app)
    _security_headers(app)
    _template_helpers(app)
    logging.getLogger("madoguchi").setLevel(logging.INFO)
    return app


def _register(app: Flask) -> None:
    from web import api, auth, clerk, errors, supplier

    app.before_request(auth.load_session_user)
    app.before_request(auth.must_change_password)
    app.teardown_appcontext(close_db_session)
    app.register_blueprint(auth.bp)
    app.register_blueprint(supplier.bp)
    app.register_blueprint(clerk.bp, url_prefix="/clerk")
    from web import mail_desk

    app.register_blueprint(mail_desk.bp, url_prefix="/clerk/mail")
    mail_desk.register_names()
    from web import ministry_export, retention

    app.register_blueprint(ministry_export.bp, url_prefix="/clerk/exports")
    app.register_blueprint(retention.bp, url_prefix="/clerk/retention")
    csrf.exempt(api.bp)  # bearer tokens, no cookies: nothing for a forged request to ride on
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    errors.register(app)


def _security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        )
        if g.get("user") is not None:
            resp.headers["Cache-Control"] = "no-store"
        return resp


def _template_helpers(app: Flask) -> None:
    from web.models import CASE_KINDS, CASE_STATUSES, OUTCOMES
    from web.notices import NOTICE_NAMES

    def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(JST).strftime(fmt)

    def show(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "はい" if value else "いいえ"
        if isinstance(value, list):
            return "、".join(str(v) for v in value)
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    app.jinja_env.filters["jst"] = jst
    app.jinja_env.filters["show"] = show
    app.jinja_env.globals.update(
        CASE_STATUSES=CASE_STATUSES, CASE_KINDS=CASE_KINDS, OUTCOMES=OUTCOMES, NOTICE_NAMES=NOTICE_NAMES
    )
