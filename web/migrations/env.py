"""Alembic environment: the engine comes from the caller (web.db.upgrade) or the settings."""

from __future__ import annotations

from alembic import context

from web.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from web.config import Settings
        from web.db import make_engine

        engine = make_engine(Settings().db_url)
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported")
run_migrations_online()
