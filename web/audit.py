"""The audit log: who saw or changed what. Ids and codes only, never personal data.

Each event is written in its own transaction, so it is kept even when the view that records
it fails afterwards.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, g, has_request_context, request

from web.models import AuditEvent

log = logging.getLogger("madoguchi.audit")


def record(action: str, object_type: str | None = None, object_id: Any = None, **detail: Any) -> None:
    """Record that the current user (or API token) did ``action`` on an object."""
    user = getattr(g, "user", None) if has_request_context() else None
    token = getattr(g, "api_token", None) if has_request_context() else None
    event = AuditEvent(
        user_id=user.id if user is not None else (token.user_id if token is not None else None),
        token_id=token.id if token is not None else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        ip=request.remote_addr if has_request_context() else None,
        detail=detail,
    )
    db = current_app.extensions["madoguchi"].db
    with db.session() as s:
        s.add(event)
    log.info("audit %s %s:%s user=%s", action, object_type, object_id, event.user_id)
