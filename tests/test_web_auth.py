# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""Log-in, roles, CSRF, cookies, headers and the audit log."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.app import create_app
from web.models import AuditEvent, User
from web.testing import (
    ADMIN_PASSWORD,
    PASSWORD,
    add_user,
    app,
    client,
    csrf_token,
    engine,
    login,
    make_settings,
)


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["madoguchi"].db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_clerk_pages_need_login(client: FlaskClient) -> None:
    for path in ("/clerk/", "/clerk/upload", "/clerk/certificates", "/clerk/cases/1", "/clerk/admin/users"):
        resp = client.get(path)
        assert resp.status_code == 302, path
        assert resp.headers["Location"].startswith("/login")


def test_first_account_logs_in_and_wrong_password_does_not(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client)
    bad = client.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token})
    assert bad.status_code == 401
    assert "ユーザー名またはパスワードが違います" in bad.get_data(as_text=True)
    assert client.get("/clerk/").status_code == 302
    login(client)
    page = client.get("/clerk/")
    assert page.status_code == 200
    assert "案件一覧" in page.get_data(as_text=True)
    assert len(_events(app, "login.failed")) == 1
    assert len(_events(app, "login")) == 1


def test_login_redirects_only_to_local_paths(client: FlaskClient) -> None:
    token = csrf_token(client)
    resp = client.post(
        "/login?next=//evil.example/x", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token}
    )
    assert resp.headers["Location"] == "/clerk/"


def test_post_without_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    resp = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert resp.status_code == 400
    assert "再読み込み" in resp.get_data(as_text=True)
    login(client)
    # a logged-in clerk's form posted without the token (a forged cross-site request)
    resp = client.post("/clerk/admin/users", data={"username": "x", "password": "y" * 12, "role": "admin"})
    assert resp.status_code == 400
    with app.extensions["madoguchi"].db.session() as s:
        assert s.scalar(select(User).where(User.username == "x")) is None


def test_logout_needs_csrf_and_ends_the_session(client: FlaskClient) -> None:
    token = login(client)
    assert client.post("/logout").status_code == 400
    assert client.get("/clerk/").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/clerk/").status_code == 302


def test_roles(app: Flask, client: FlaskClient) -> None:
    add_user(app, "suzuki", "clerk")
    token = login(client, "suzuki", PASSWORD)
    assert client.get("/clerk/admin/users").status_code == 403
    assert client.get("/clerk/admin/audit").status_code == 403
    # only an approver decides, even on a case that does not exist
    assert client.post("/clerk/cases/1/decide", data={"outcome": "approve", "csrf_token": token}).status_code == 403
    publish = client.post("/clerk/certificates/publish", data={"program": "shibukawa", "csrf_token": token})
    assert publish.status_code == 403
    assert len(_events(app, "forbidden")) >= 3


def test_admin_creates_accounts_and_disabling_ends_their_sessions(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    resp = client.post(
        "/clerk/admin/users",
        data={"username": "tanaka", "password": "approver-pass-1", "role": "approver", "csrf_token": token},
    )
    assert resp.status_code == 302
    other = app.test_client()
    login(other, "tanaka", "approver-pass-1")
    assert other.get("/clerk/").status_code == 200
    with app.extensions["madoguchi"].db.session() as s:
        uid = s.scalar(select(User.id).where(User.username == "tanaka"))
    client.post(f"/clerk/admin/users/{uid}/disable", data={"csrf_token": token})
    assert other.get("/clerk/").status_code == 302


def test_password_change_ends_other_sessions(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    other = app.test_client()
    login(other)
    resp = client.post(
        "/clerk/account/password",
        data={"current": ADMIN_PASSWORD, "new": "a-new-password", "confirm": "a-new-password", "csrf_token": token},
    )
    assert resp.status_code == 302
    assert client.get("/clerk/").status_code == 200  # this session was renewed
    assert other.get("/clerk/").status_code == 302  # the other one ended


def test_session_cookie_flags(tmp_path, engine) -> None:
    app = create_app(make_settings(tmp_path, cookie_secure=True))
    client = app.test_client()
    token = csrf_token(client, "/login")
    resp = client.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token},
                       base_url="https://localhost")
    cookie = resp.headers["Set-Cookie"]
    assert "madoguchi_session=" in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.extensions["madoguchi"].db.dispose()


def test_security_headers(client: FlaskClient) -> None:
    resp = client.get("/")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]


def test_first_account_credentials_are_kept_until_changed(app: Flask, client: FlaskClient) -> None:
    from web.bootstrap import initial_credentials

    rt = app.extensions["madoguchi"]
    assert initial_credentials(rt) == ("admin", ADMIN_PASSWORD)
    assert (rt.settings.data_path / "initial-admin.txt").stat().st_mode & 0o777 == 0o600
    token = login(client)
    client.post(
        "/clerk/account/password",
        data={"current": ADMIN_PASSWORD, "new": "a-new-password", "confirm": "a-new-password", "csrf_token": token},
    )
    assert initial_credentials(rt) is None
    assert not (rt.settings.data_path / "initial-admin.txt").exists()


def test_generated_first_password_when_none_is_configured(tmp_path, engine) -> None:
    app = create_app(make_settings(tmp_path, admin_password=None))
    from web.bootstrap import initial_credentials

    creds = initial_credentials(app.extensions["madoguchi"])
    assert creds is not None and creds[0] == "admin" and len(creds[1]) >= 12
    client = app.test_client()
    login(client, *creds)
    app.extensions["madoguchi"].db.dispose()


def test_programs_are_loaded_from_the_packs(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert "渋川市ふるさと応援寄附金" in html
