"""Records in: the one contract by which ``generate`` and the web service take a record.

A record is what a notice is filled from. It arrives in one of three shapes, and
``record_from_json`` reads all of them the same way:

1. the output of ``madoguchi extract --json`` (DESIGN 4.2): ``{"documents": [{"form", "fields":
   {key: {"value", "confidence", "page", "bbox", "source", "review", "raw"}}, "checks"}]}``;
2. a golden file: ``{"form": "gunma-mask.form1", "fields": {key: value}}``;
3. plain values: ``{key: value}`` (a value may also be a field object with ``value``).

Whatever the shape, the result is a flat ``{key: value}`` dict with:

- each document's values by form under ``forms`` (form id → {key: value});
- every document's checks under ``findings``;
- the keys of fields marked for review (``"review": true``) under ``review_fields``
  (``form:key`` is not needed: a key is reported once);
- the form's own keys mapped to the keys notices read (``FORM_KEYS``: Gunma's ``seller_name``
  is the addressee ``applicant_name``, its ``submission_date`` the ``application_date`` …),
  added beside the form's own keys, never replacing a value the record already has;
- other top-level keys (a decision, conditions, reasons …) kept as they are;
- a guided field's value (時期限定（　頃～　頃）, 梱包重量　kg　サイズ) as the guide filled in, the
  spaces a page's text put between its blanks and printed words taken out
  (``FieldDecl.tidy_guided``), so that a record read from a PDF is the record read from a DOCX.

The web service builds the same shape from its database (``documents_record``) so that a
notice reads a case exactly as it reads a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from forms.errors import InvalidRecord

#: The keys a field object of DESIGN 4.2 may carry beside its value.
FIELD_META = frozenset({"value", "confidence", "page", "bbox", "source", "label", "raw", "review"})
_NUMBERED_FORM = re.compile(r"^[a-z][a-z0-9-]*\.form\d+$")


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def is_field_object(value: Any) -> bool:
    """A DESIGN 4.2 field object (``{"value": …, "confidence": …}``), not a value that is a dict."""
    return isinstance(value, Mapping) and "value" in value and set(value) <= FIELD_META


def unwrap(value: Any) -> Any:
    return value["value"] if is_field_object(value) else value


# --- the form's own keys → the keys notices read ------------------------------------------------


def _gunma_plan_name(values: Mapping[str, Any]) -> str | None:
    """Gunma's 販売計画 is named by its month and products: 令和3年1月販売分（群馬県産 … ほか1製品）."""
    from generate.wareki import era_of, to_date

    names = [
        str(values[k]).strip()
        for k in sorted(values, key=lambda k: int(re.sub(r"\D", "", k) or 0))
        if re.fullmatch(r"item\d+_name", k) and not _is_blank(values[k])
    ]
    month: date | None
    try:
        month = to_date(values.get("sales_month"))
    except ValueError:
        month = None
    head = ""
    if month is not None:
        era, year = era_of(month)
        head = f"{era.name}{'元' if year == 1 else year}年{month.month}月販売分"
    if not names:
        return head or None
    goods = names[0] + (f" ほか{len(names) - 1}製品" if len(names) > 1 else "")
    return f"{head}（{goods}）" if head else goods


#: Per form: the notice key each of its own keys stands for. Only added where the record has no
#: value under the notice key; the form's own keys stay (the catalogue's keys are never renamed).
FORM_KEYS: dict[str, dict[str, str]] = {
    "gunma-mask.form1": {
        "seller_name": "applicant_name",
        "seller_address": "applicant_address",
        "seller_representative": "applicant_representative",
        "submission_date": "application_date",
    },
    "ehime-voucher.form1": {
        "operator_name": "applicant_name",
        "operator_address": "applicant_address",
        "representative": "applicant_representative",
        "store_postal_code": "applicant_postal_code",
    },
    "shibukawa.form2": {
        "certificate_date": "application_date",
        "manufacturing_place": "manufacturing_location",
    },
    "shibukawa.form5": {"original_approval_date": "approval_date"},
    "tax_certificate": {"taxpayer_name": "applicant_name", "taxpayer_address": "applicant_address"},
}

#: Per form: values computed from several of its keys (Gunma's plan has no single product name).
FORM_DERIVED: dict[str, dict[str, Callable[[Mapping[str, Any]], Any]]] = {
    "gunma-mask.form1": {"product_name": _gunma_plan_name},
}


def _tidy(form_id: str, values: dict[str, Any]) -> None:
    """Guided values of a catalogue form as the guide filled in (``FieldDecl.tidy_guided``)."""
    from forms.catalogue import catalogue

    form = catalogue().get(form_id)
    if form is None:
        return
    for f in form.fields():
        if f.guide is not None and f.key in values:
            values[f.key] = f.tidy_guided(values[f.key])


def notice_values(form_id: str | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """A form's values with the notice keys its own keys stand for added (never overwritten)."""
    out = dict(values)
    if not form_id:
        return out
    _tidy(form_id, out)
    for own, notice_key in FORM_KEYS.get(form_id, {}).items():
        if _is_blank(out.get(notice_key)) and not _is_blank(out.get(own)):
            out[notice_key] = out[own]
    for notice_key, derive in FORM_DERIVED.get(form_id, {}).items():
        if _is_blank(out.get(notice_key)):
            value = derive(out)
            if not _is_blank(value):
                out[notice_key] = value
    return out


# --- documents → one record ---------------------------------------------------------------------


def _documents(obj: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The documents of an extract result or of a golden ``{form, fields}`` file; None for plain values."""
    if "documents" in obj:
        documents = obj["documents"]
        if not isinstance(documents, list) or not all(isinstance(d, Mapping) for d in documents):
            raise InvalidRecord("`documents` must be a list of objects (madoguchi extract --json)")
        return documents
    if isinstance(obj.get("fields"), Mapping) and isinstance(obj.get("form"), (str, type(None))):
        return [obj]
    return None


def merge_documents(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One record from documents (``form``, ``fields``, ``checks``), the program's numbered forms
    (``shibukawa.form1`` …) first, then documents issued by others (納税証明書 …); each key is
    taken from the first document that has a value for it."""
    ordered = sorted(documents, key=lambda d: 0 if _NUMBERED_FORM.match(str(d.get("form") or "")) else 1)
    record: dict[str, Any] = {}
    forms: dict[str, dict[str, Any]] = {}
    findings: list[Any] = []
    review: list[str] = []
    for doc in ordered:
        fields = doc.get("fields") or {}
        if not isinstance(fields, Mapping):
            raise InvalidRecord(f"document {doc.get('file', '?')}: `fields` must be an object")
        form_id = str(doc["form"]) if doc.get("form") else None
        own = {str(k): unwrap(v) for k, v in fields.items()}
        if form_id:
            _tidy(form_id, own)
        review.extend(str(k) for k, v in fields.items() if isinstance(v, Mapping) and v.get("review") is True)
        if form_id:
            forms.setdefault(form_id, {}).update(own)
        for key, value in notice_values(form_id, own).items():
            if not _is_blank(value):
                record.setdefault(key, value)
        checks = doc.get("checks") or []
        if not isinstance(checks, list):
            raise InvalidRecord(f"document {doc.get('file', '?')}: `checks` must be a list")
        findings.extend(checks)
    record["forms"] = forms
    if findings:
        record["findings"] = findings
    if review:
        record["review_fields"] = list(dict.fromkeys(review))
    return record


def record_from_json(obj: Any) -> dict[str, Any]:
    """One record from any of the three shapes (see the module's docstring)."""
    if not isinstance(obj, Mapping):
        raise InvalidRecord(f"a record must be a JSON object, not {type(obj).__name__}")
    documents = _documents(obj)
    if documents is None:
        form_id = obj.get("form") if isinstance(obj.get("form"), str) else None
        flat = {str(k): unwrap(v) for k, v in obj.items()}
        review = [str(k) for k, v in obj.items() if is_field_object(v) and v.get("review") is True]
        if review:
            flat.setdefault("review_fields", review)
        if "findings" not in flat and isinstance(flat.get("checks"), list):
            flat["findings"] = flat["checks"]
        return notice_values(form_id, flat)
    record = merge_documents(documents)
    for key, value in obj.items():
        if key in ("documents", "fields", "form"):
            continue
        if key == "checks" and isinstance(value, list):
            record.setdefault("findings", value)
            continue
        record.setdefault(str(key), value)
    return record


def records_from_json(obj: Any) -> list[dict[str, Any]]:
    """A JSON file's records: a list of records, ``{"records": [...]}``, or one record."""
    if isinstance(obj, list):
        return [record_from_json(item) for item in obj]
    if isinstance(obj, Mapping) and isinstance(obj.get("records"), list):
        return [record_from_json(item) for item in obj["records"]]
    return [record_from_json(obj)]
