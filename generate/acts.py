"""Warnings before an official act: what a person must confirm before a notice is issued.

An approval (承認書, 採用決定通知書, a registration, a change of handling) is the municipality's
act. Issuing one for a record whose own checks fail, or whose values were read unsure and
never confirmed, must not happen silently:

    warnings = act_warnings("approval", record)        # [] when nothing needs confirming
    if warnings and not force: raise NeedsConfirmation(...)

``madoguchi generate`` asks for ``--force``; the web service shows the same list on the
approver's confirmation screen. The record is any record ``generate.records.record_from_json``
reads: its ``findings`` (the checks) and ``review_fields`` (fields marked for review).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from forms.errors import MadoguchiError

#: Notices that grant something: issued only once what argues against them is confirmed.
GRANTING_KINDS = frozenset({"approval", "change_notice", "registration_result"})


class NeedsConfirmation(MadoguchiError):
    """An official act asked for without confirming its warnings (``--force``)."""

    exit_code = 2
    http_status = 409
    code = "needs_confirmation"


@dataclass(frozen=True)
class ActWarning:
    kind: Literal["check_failed", "field_for_review"]
    #: The rule (check_failed) or the field key (field_for_review).
    subject: str
    message: str


@lru_cache(maxsize=None)
def _field_labels(form_id: str) -> dict[str, str]:
    from forms.catalogue import get_form

    try:
        form = get_form(form_id)
    except MadoguchiError:
        return {}
    labels: dict[str, str] = {}
    for row in form.rows():
        for f in row.fields:
            label = row.label + (f"（{f.label}）" if f.label and f.label != row.label else "")
            labels[f.key] = label
    return labels


def _label(key: str, forms: Sequence[str]) -> str:
    for form_id in forms:
        label = _field_labels(form_id).get(key)
        if label:
            return label
    return key


def _grants(kind: str, record: Mapping[str, Any]) -> bool:
    if kind == "registration_result":
        decision = str(record.get("decision") or "").lower()
        return record.get("registered") is True or decision.startswith("approve") or decision in ("registered", "accept")
    return kind in GRANTING_KINDS


def act_warnings(kind: str, record: Mapping[str, Any]) -> list[ActWarning]:
    """What argues against issuing ``kind`` for ``record``: each failed check (with its
    clause) and each field still marked for review. Empty for notices that grant nothing
    (a rejection, the supplier's own forms)."""
    if not _grants(kind, record):
        return []
    warnings: list[ActWarning] = []
    seen: set[tuple[str, str]] = set()
    for finding in record.get("findings") or []:
        data = finding if isinstance(finding, Mapping) else getattr(finding, "__dict__", {})
        if data.get("status") != "fail":
            continue
        rule, message, clause = str(data.get("rule") or ""), str(data.get("message") or ""), str(data.get("clause") or "")
        if (rule, message) in seen:
            continue
        seen.add((rule, message))
        where = f"（{clause}）" if clause else ""
        warnings.append(ActWarning("check_failed", rule, f"要件を満たしていません: {message}{where}"))
    forms = [str(f) for f in (record.get("forms") or {})]
    for key in record.get("review_fields") or []:
        label = _label(str(key), forms)
        named = f"{label}（{key}）" if label != key else str(key)
        warnings.append(ActWarning("field_for_review", str(key), f"読取りが要確認のまま: {named}"))
    return warnings


def confirmation_needed(kind: str, records: Sequence[Mapping[str, Any]]) -> list[tuple[int, ActWarning]]:
    """Every warning of a batch, with the record's position."""
    return [(i, w) for i, record in enumerate(records) for w in act_warnings(kind, record)]
