"""Accounts, sessions, roles and API tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from web import audit
from web.db_session import db_session
from web.models import ROLES, ApiToken, User, utcnow

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

#: werkzeug's method for new password hashes (settings.password_hash_method).
_method = "scrypt"
#: A hash to compare against when the user does not exist, so timing does not tell.
_dummy_hash: str | None = None


def configure_hashing(method: str) -> None:
    global _method, _dummy_hash
    if method != _method:
        _method, _dummy_hash = method, None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_method)


def create_user(s: Session, username: str, password: str, role: str, display_name: str = "") -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = User(username=username, password_hash=hash_password(password), role=role, display_name=display_name)
    s.add(user)
    s.flush()
    return user


def authenticate(s: Session, username: str, password: str) -> User | None:
    user = s.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        global _dummy_hash
        _dummy_hash = _dummy_hash or hash_password("not a password")
        check_password_hash(_dummy_hash, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


# --- API tokens -------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(s: Session, user: User, name: str) -> str:
    """Create a token for ``user``; the plain token is returned once and only its hash kept."""
    token = "mdg_" + secrets.token_urlsafe(32)
    s.add(ApiToken(user_id=user.id, name=name, token_hash=token_hash(token), prefix=token[:10]))
    s.flush()
    return token


def token_from_request(s: Session) -> ApiToken | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    token = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(value.strip())))
    if token is None or token.revoked or not token.user.active:
        return None
    now = utcnow()
    last = token.last_used_at
    if last is None or (now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo))).total_seconds() > 60:
        token.last_used_at = now  # at most once a minute: no write on every request
    return token


# --- sessions ---------------------------------------------------------------------------

#: Pages a user who must change the password may still open.
_OPEN_WHILE_MUST_CHANGE = {"clerk.change_password", "auth.logout", "auth.login", "static"}


def load_session_user() -> None:
    """Before each request: the logged-in user, if the server-side session is still live."""
    from web.security import session_user

    g.user = None
    sid = session.get("sid")
    if sid is None:
        return
    s = db_session()
    user = session_user(s, sid)
    if user is None or session.get("sv") != user.session_version:
        session.clear()
        return
    g.user = user


def must_change_password() -> Any:
    """Before each request: a user still on a printed password changes it before anything else."""
    user: User | None = g.get("user")
    if user is not None and user.must_change_password and request.endpoint not in _OPEN_WHILE_MUST_CHANGE:
        if request.path.startswith("/api/"):
            return None
        flash("初期パスワードのままです。続ける前にパスワードを変更してください。", "error")
        return redirect(url_for("clerk.change_password"))
    return None


def login_user(user: User) -> None:
    """A fresh session on login (no fixation), recorded server-side so that logout ends it."""
    from web.db_session import runtime
    from web.security import start_session

    s = db_session()
    sid = start_session(s, user, runtime().settings.session_hours, request.remote_addr)
    s.commit()
    session.clear()
    session.permanent = True
    session["uid"] = user.id
    session["sv"] = user.session_version
    session["sid"] = sid


def login_required(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def role_required(role: str) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user: User | None = g.get("user")
            if user is None:
                return redirect(url_for("auth.login"))
            if not user.can(role):
                audit.record("forbidden", "route", request.endpoint, role=role)
                abort(403)
            return fn(*args, **kwargs)

        return login_required(wrapper)  # type: ignore[return-value]

    return decorate


def _safe_next(target: str | None) -> str:
    from web.security import safe_next

    return safe_next(target) or url_for("clerk.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    from web.db_session import runtime
    from web.security import check_throttle, note_attempt

    if request.method == "POST":
        settings = runtime().settings
        username = request.form.get("username", "").strip()[:64]
        password = request.form.get("password", "")
        ip = request.remote_addr or ""
        s = db_session()
        throttle = check_throttle(s, settings, username, ip)
        if not throttle.allowed:
            note_attempt(s, settings, username, ip, success=False)
            s.commit()
            _audit_account("login.refused_locked", s, username, locked=throttle.locked)
            return _locked(username, throttle.retry_after)
        user = authenticate(s, username, password)
        if user is None:
            after = note_attempt(s, settings, username, ip, success=False)
            s.commit()
            audit.record("login.failed")
            if not after.allowed:
                _audit_account("login.lockout", s, username, locked=after.locked)
                return _locked(username, after.retry_after)
            flash("ユーザー名またはパスワードが違います。", "error")
            return render_template("login.html", username=username), 401
        note_attempt(s, settings, username, ip, success=True)
        user.locked_until = None
        s.commit()
        login_user(user)
        g.user = user
        audit.record("login", "user", user.id)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", username="")


def _audit_account(action: str, s: Session, username: str, **detail: Any) -> None:
    """An audit entry naming the account: its id, or the name tried when there is no such account."""
    uid = s.scalar(select(User.id).where(User.username == username))
    if uid is not None:
        audit.record(action, "user", uid, **detail)
    else:
        audit.record(action, "username", username[:64], **detail)


def _locked(username: str, retry_after: int) -> Any:
    minutes = max(1, (retry_after + 59) // 60)
    flash(f"ログインの失敗が続いたため、約{minutes}分間ログインできません。", "error")
    resp = make_response(render_template("login.html", username=username), 429)
    resp.headers["Retry-After"] = str(retry_after)
    return resp


@bp.post("/logout")
def logout() -> Any:
    from web.security import end_session

    if g.get("user") is not None:
        s = db_session()
        end_session(s, session.get("sid"))
        s.commit()
        audit.record("logout", "user", g.user.id)
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))
