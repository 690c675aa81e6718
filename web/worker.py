"""The Celery application for ``celery -A web.worker:celery_app worker`` (started by serve)."""

from __future__ import annotations

from web import tasks
from web.config import Settings

tasks.configure(Settings())
celery_app = tasks.celery_app

__all__ = ["celery_app"]
