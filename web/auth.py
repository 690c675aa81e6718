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


def load_session_user() -> None:
    """Before each request: the logged-in user, if the session is still valid."""
    g.user = None
    uid = session.get("uid")
    if uid is None:
        return
    user = db_session().get(User, uid)
    if user is None or not user.active or session.get("sv") != user.session_version:
        session.clear()
        return
    g.user = user


def login_user(user: User) -> None:
    session.clear()  # a fresh session on login: no fixation
    session.permanent = True
    session["uid"] = user.id
    session["sv"] = user.session_version


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
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("clerk.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        s = db_session()
        user = authenticate(s, username, password)
        if user is None:
            audit.record("login.failed")
            flash("ユーザー名またはパスワードが違います。", "error")
            return render_template("login.html", username=username), 401
        login_user(user)
        g.user = user
        audit.record("login", "user", user.id)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", username="")


@bp.post("/logout")
def logout() -> Any:
    if g.get("user") is not None:
        audit.record("logout", "user", g.user.id)
    session.clear()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))
