"""First start: the schema, the programs from their packs, and a first account."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from sqlalchemy import func, select

from web import services
from web.auth import create_user
from web.db_session import Runtime
from web.models import Program, User

log = logging.getLogger("madoguchi.bootstrap")

CREDENTIALS_FILE = "initial-admin.txt"


def sync_programs(rt: Runtime) -> int:
    """Insert or update one row per program pack."""
    packs = services.programs()
    with rt.db.session() as s:
        for pid, settings in packs.items():
            row = s.get(Program, pid) or Program(id=pid)
            row.name = settings.name
            row.municipality = settings.municipality
            row.settings = settings.model_dump(mode="json")
            row.active = True
            s.add(row)
    return len(packs)


def ensure_admin(rt: Runtime) -> tuple[str, str] | None:
    """Create ``admin`` when there is no account yet; returns (user, password) when created.

    The password is MADOGUCHI_ADMIN_PASSWORD or generated; it is kept (0600) in the data
    directory until it is changed, so ``madoguchi serve`` can print it at every start.
    """
    with rt.db.session() as s:
        if s.scalar(select(func.count()).select_from(User)):
            return None
        password = rt.settings.admin_password or secrets.token_urlsafe(12)
        user = create_user(s, "admin", password, "admin", display_name="管理者")
        user.must_change_password = rt.settings.admin_must_change_password
    path = rt.settings.data_path / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"admin\n{password}\n")
    return "admin", password


def initial_credentials(rt: Runtime) -> tuple[str, str] | None:
    """The first account's credentials while its password is still the initial one."""
    path: Path = rt.settings.data_path / CREDENTIALS_FILE
    if not path.exists():
        return None
    username, password = (path.read_text().splitlines() + ["", ""])[:2]
    from werkzeug.security import check_password_hash

    with rt.db.session() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not check_password_hash(user.password_hash, password):
            path.unlink(missing_ok=True)
            return None
    return username, password


def bootstrap(rt: Runtime) -> None:
    from web.security import restrict_data_dir

    restrict_data_dir(rt.settings.data_path)
    if rt.settings.migrate_on_start:
        rt.db.migrate()
    restrict_data_dir(rt.settings.data_path)  # the database files the migrations created
    sync_programs(rt)
    ensure_admin(rt)
