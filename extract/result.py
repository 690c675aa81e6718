"""The extraction result of DESIGN 4.2 (CLI --json and POST /api/v1/extract)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from extract.pagemodel import Source
from forms.findings import Finding


class ExtractedField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Any
    confidence: float
    page: int | None = None
    bbox: list[float] | None = None
    source: Source
    #: True when the confidence is under the review threshold.
    review: bool = False
    #: The text as read, before normalization.
    raw: str | None = None


MissingReason = Literal["label_not_found", "empty", "unparsed"]


class MissingField(BaseModel):
    """A declared field with no value, and why: its label was not found, its cell was blank,
    or what stood there did not read as its type."""

    model_config = ConfigDict(extra="forbid")

    field: str
    reason: MissingReason


class DocumentResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str
    sha256: str
    #: Catalogue form id, or None for a document that is not a known form.
    form: str | None
    pages: int
    fields: dict[str, ExtractedField] = {}
    #: Every declared field without a value, with its reason (DESIGN 4.2).
    missing: list[MissingField] = []
    checks: list[Finding] = []
    #: First page of this document within the file (a scan may hold several documents).
    first_page: int = 1
    #: The document's text, for unknown documents and search.
    text: str | None = None


class ExtractionResult(BaseModel):
    documents: list[DocumentResult]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=False)
