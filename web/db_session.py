"""The objects one process works with (settings, database, storage) and the request's session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.orm import Session

from web.config import Settings
from web.db import Database
from web.storage import Storage


@dataclass
class Runtime:
    settings: Settings
    db: Database
    storage: Storage

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(settings, Database.from_url(settings.db_url), Storage(settings.files_dir))


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["madoguchi"]
    return rt


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db" not in g:
        g.db = runtime().db.sessionmaker()
    s: Session = g.db
    return s


def close_db_session(_exc: BaseException | None = None) -> None:
    s: Session | None = g.pop("db", None)
    if s is not None:
        s.close()
