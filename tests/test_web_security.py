# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""What a security tester tries at the door: open redirects after login, password guessing by
account and by address, a copied session cookie after logout, weak passwords, the printed first
password, and who can read the data directory."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from web.app import create_app
from web.models import AuditEvent, LoginAttempt, User, utcnow
from web.security import password_problem, safe_next
from web.testing import (
    ADMIN_PASSWORD,
    PASSWORD,
    FakeEngine,
    add_user,
    any_db_app,
    app,
    client,
    csrf_token,
    engine,
    login,
    make_settings,
    pg_schema_url,
)


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["madoguchi"].db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _try(client: FlaskClient, username: str, password: str, next_: str | None = None):  # type: ignore[no-untyped-def]
    path = "/login" + (f"?next={next_}" if next_ is not None else "")
    return client.post(path, data={"username": username, "password": password, "csrf_token": csrf_token(client)})


@pytest.mark.parametrize("target", [
    "/%09/example.invalid/phish", "/%0A/example.invalid", "//example.invalid", "/\\example.invalid",
    "https://example.invalid/", "/%5Cexample.invalid", "javascript:alert(1)", "/%20/example.invalid",
    "/supplier/../../example.invalid", "/static/app.js",
])
def test_login_redirects_only_to_this_sites_clerk_pages(client: FlaskClient, target: str) -> None:
    resp = _try(client, "admin", ADMIN_PASSWORD, target)
    assert resp.status_code == 302 and resp.headers["Location"] == "/clerk/", target


def test_login_keeps_a_local_next(client: FlaskClient) -> None:
    resp = _try(client, "admin", ADMIN_PASSWORD, "/clerk/cases/3?x=1")
    assert resp.headers["Location"] == "/clerk/cases/3?x=1"
    assert safe_next("/clerk/") == "/clerk/" and safe_next("/\t/example.invalid") is None


def test_wrong_passwords_lock_the_account_even_for_the_right_one(any_db_app: Flask) -> None:
    app = any_db_app
    client = app.test_client()
    add_user(app, "tanaka", "clerk")
    for _ in range(30):
        resp = _try(client, "admin", "wrong-password")
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 60
    right = _try(client, "admin", ADMIN_PASSWORD)
    assert right.status_code == 429 and "ログインできません" in right.get_data(as_text=True)
    assert client.get("/clerk/").status_code == 302
    # the audit names the locked account (by id), once when it locked
    with app.extensions["madoguchi"].db.session() as s:
        admin_id = s.scalar(select(User.id).where(User.username == "admin"))
        assert s.scalar(select(User.locked_until).where(User.id == admin_id)) is not None
    (locked,) = _events(app, "login.lockout")
    assert (locked.object_type, locked.object_id, locked.detail["locked"]) == ("user", str(admin_id), "account")
    assert len(_events(app, "login.refused_locked")) == 26
    # another account from another address is not locked
    other = app.test_client()
    resp = other.post("/login", data={"username": "tanaka", "password": PASSWORD, "csrf_token": csrf_token(other)},
                      environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert resp.status_code == 302
    # once the window has passed, the right password works again
    with app.extensions["madoguchi"].db.session() as s:
        s.execute(update(LoginAttempt).values(at=utcnow() - timedelta(minutes=16)))
    assert _try(client, "admin", ADMIN_PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_locked(tmp_path: Path, engine: FakeEngine) -> None:
    app = create_app(make_settings(tmp_path, login_max_failures_address=8))
    client = app.test_client()
    for n in range(8):
        resp = _try(client, f"user{n}", "wrong-password")
    assert resp.status_code == 429
    assert _try(client, "admin", ADMIN_PASSWORD).status_code == 429
    assert _events(app, "login.lockout")[0].detail["locked"] == "address"
    # the same account from another address still logs in
    other = app.test_client()
    resp = other.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD,
                                      "csrf_token": csrf_token(other)}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert resp.status_code == 302
    app.extensions["madoguchi"].db.dispose()


def test_logout_ends_the_session_on_the_server(any_db_app: Flask) -> None:
    app = any_db_app
    client = app.test_client()
    token = login(client)
    cookie = client.get_cookie("madoguchi_session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("madoguchi_session", cookie.value)
    assert thief.get("/clerk/").status_code == 200
    client.post("/logout", data={"csrf_token": token})
    assert thief.get("/clerk/").status_code == 302  # the copied cookie is dead too
    assert client.get("/clerk/").status_code == 302


def test_password_change_ends_every_other_session(any_db_app: Flask) -> None:
    app = any_db_app
    client = app.test_client()
    token = login(client)
    copied = client.get_cookie("madoguchi_session").value  # type: ignore[union-attr]
    other = app.test_client()
    login(other)
    resp = client.post("/clerk/account/password", data={
        "current": ADMIN_PASSWORD, "new": "river-maple-lantern", "confirm": "river-maple-lantern", "csrf_token": token})
    assert resp.status_code == 302
    assert client.get("/clerk/").status_code == 200
    assert other.get("/clerk/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("madoguchi_session", copied)
    assert thief.get("/clerk/").status_code == 302


@pytest.mark.parametrize("password", ["1234567890", "1234567890ab", "password1234", "qwertyuiop12",
                                      "iloveyou1234", "aaaaaaaaaaaaaa", "short-1", "admin-admin-2026"])
def test_weak_passwords_are_refused(app: Flask, client: FlaskClient, password: str) -> None:
    token = login(client)
    resp = client.post("/clerk/account/password", data={
        "current": ADMIN_PASSWORD, "new": password, "confirm": password, "csrf_token": token})
    assert resp.status_code == 400
    assert password_problem(password, "admin") is not None


def test_policy_accepts_a_long_uncommon_password() -> None:
    assert password_problem("river-maple-lantern", "admin") is None
    assert password_problem("黒い猫と白い犬の窓口", "admin", 10) is None


def test_admin_cannot_create_an_account_with_a_common_password(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    client.post("/clerk/admin/users", data={"username": "sato", "password": "password1234", "role": "clerk",
                                            "csrf_token": token})
    with app.extensions["madoguchi"].db.session() as s:
        assert s.scalar(select(User).where(User.username == "sato")) is None


def test_the_printed_first_password_must_be_changed_first(tmp_path: Path, engine: FakeEngine) -> None:
    app = create_app(make_settings(tmp_path, admin_password=None, admin_must_change_password=True))
    from web.bootstrap import initial_credentials

    rt = app.extensions["madoguchi"]
    username, password = initial_credentials(rt)  # type: ignore[misc]
    client = app.test_client()
    resp = _try(client, username, password)
    assert resp.status_code == 302
    for path in ("/clerk/", "/clerk/upload", "/clerk/admin/users", "/clerk/cases/1"):
        resp = client.get(path)
        assert resp.status_code == 302 and resp.headers["Location"] == "/clerk/account/password", path
    token = csrf_token(client, "/clerk/account/password")
    client.post("/clerk/account/password", data={"current": password, "new": "river-maple-lantern",
                                                 "confirm": "river-maple-lantern", "csrf_token": token})
    assert client.get("/clerk/").status_code == 200
    assert initial_credentials(rt) is None
    assert not (rt.settings.data_path / "initial-admin.txt").exists()
    app.extensions["madoguchi"].db.dispose()


def test_data_dir_and_database_only_for_the_service_user(tmp_path: Path, engine: FakeEngine) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    app = create_app(make_settings(tmp_path, database_url=None))
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    db = data / "madoguchi.db"
    assert db.exists() and stat.S_IMODE(db.stat().st_mode) == 0o600
    for wal in data.glob("madoguchi.db-*"):
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600, wal
    app.extensions["madoguchi"].db.dispose()
