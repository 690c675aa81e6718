"""What a city's security audit checks at the door: where a login may send the browser, how
many wrong passwords an account or an address may try, server-side sessions, the password
policy, and a data directory only the service's user can read.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from web.config import Settings
from web.models import LoginAttempt, User, UserSession, utcnow

# --- redirects -----------------------------------------------------------------------------


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path of this site's clerk pages, else None.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so
    ``/\\t/example.invalid`` would leave the site: any control character, space or backslash
    refuses the target outright, as does anything with a scheme or a host.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(c) < 0x21 or ord(c) == 0x7F or c == "\\" for c in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if not (parts.path == "/clerk" or parts.path.startswith("/clerk/")):
        return None
    return target


# --- login throttling ------------------------------------------------------------------------


@dataclass(frozen=True)
class Throttle:
    """Whether a login may be tried now, and when again if not."""

    allowed: bool
    retry_after: int = 0
    #: "account" or "address": what is locked.
    locked: str | None = None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


def check_throttle(s: Session, settings: Settings, username: str, ip: str) -> Throttle:
    """Refuse a login when the account or the address failed too often within the window.

    An account counts its failures since its last successful login; the lock lasts a window
    from the failure that reached the limit (a correct password does not open it early).
    """
    now = utcnow()
    window = timedelta(minutes=settings.login_window_minutes)
    since = now - window
    last_ok = s.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username, LoginAttempt.success)
    )
    account_since = max(since, _aware(last_ok)) if last_ok else since
    for kind, column, value, limit, start in (
        ("account", LoginAttempt.username, username, settings.login_max_failures_account, account_since),
        ("address", LoginAttempt.ip, ip, settings.login_max_failures_address, since),
    ):
        failures = list(
            s.scalars(
                select(LoginAttempt.at)
                .where(column == value, LoginAttempt.at > start, LoginAttempt.success.is_(False))
                .order_by(LoginAttempt.at.desc())
                .limit(limit)
            )
        )
        if limit > 0 and len(failures) >= limit:
            until = _aware(failures[0]) + window
            return Throttle(False, max(1, int((until - now).total_seconds())), kind)
    return Throttle(True)


def note_attempt(s: Session, settings: Settings, username: str, ip: str, success: bool) -> Throttle:
    """Record an attempt; returns the throttle after it (a failure may have just locked)."""
    s.add(LoginAttempt(username=username[:64], ip=ip[:64], success=success))
    if success:  # what no window looks at any more
        s.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - timedelta(days=7)))
    s.flush()
    after = check_throttle(s, settings, username[:64], ip[:64])
    if not after.allowed and after.locked == "account":
        until = utcnow() + timedelta(seconds=after.retry_after)
        s.execute(update(User).where(User.username == username).values(locked_until=until))
    return after


# --- server-side sessions ------------------------------------------------------------------


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start_session(s: Session, user: User, hours: int, ip: str | None) -> str:
    """A new session row; returns the random id the cookie carries (the table keeps its hash)."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    s.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at < now - timedelta(days=1)))
    s.add(UserSession(id=_digest(sid), user_id=user.id, created_at=now, last_seen_at=now,
                      expires_at=now + timedelta(hours=hours), ip=(ip or "")[:64]))
    s.flush()
    return sid


def session_user(s: Session, sid: str | None) -> User | None:
    """The user of a live session (not ended, not expired, account active), else None."""
    if not sid:
        return None
    row = s.get(UserSession, _digest(sid))
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if _aware(row.expires_at) <= now:
        return None
    user = s.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if (now - _aware(row.last_seen_at)).total_seconds() > 60:
        row.last_seen_at = now
        s.commit()  # at most once a minute, and never held open through the request
    return user


def end_session(s: Session, sid: str | None) -> None:
    if sid:
        s.execute(update(UserSession).where(UserSession.id == _digest(sid)).values(ended_at=utcnow()))


def end_all_sessions(s: Session, user_id: int) -> int:
    """End every session of a user (password changed, account disabled); returns how many."""
    result = s.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)


# --- password policy -----------------------------------------------------------------------


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords (zxcvbn's list, from leaked password sets)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, username: str = "", min_length: int = 12) -> str | None:
    """Why a new password is refused (a Japanese message), or None when it is acceptable."""
    if len(password) < min_length:
        return f"パスワードは{min_length}文字以上にしてください。"
    lowered = password.lower()
    core = lowered.strip("0123456789!@#$%^&*()-_=+.,?~ ")
    if lowered in common_passwords() or core in common_passwords() or len(set(lowered)) <= 3:
        return "よく使われるパスワードや単純なパスワードは使えません。"
    if username and len(username) >= 3 and username.lower() in lowered:
        return "ユーザー名を含むパスワードは使えません。"
    from zxcvbn import zxcvbn

    if zxcvbn(password[:100], user_inputs=[username, "madoguchi", "窓口"])["score"] < 3:
        return "推測されやすいパスワードです。単語を組み合わせるなど、より長く複雑にしてください。"
    return None


# --- the data directory ------------------------------------------------------------------------


def restrict_data_dir(data_path: Path) -> None:
    """The data directory 0700 and the database files in it 0600: the service's user only."""
    os.chmod(data_path, 0o700)
    for pattern in ("*.db", "*.db-wal", "*.db-shm", "*.sqlite3", "secret_key", "initial-admin.txt"):
        for path in data_path.glob(pattern):
            if path.is_file() and stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, 0o600)
