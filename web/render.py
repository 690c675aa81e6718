"""Readable terminal output of an extraction result (``madoguchi extract`` without --json)."""

from __future__ import annotations

import sys
import unicodedata
from typing import Any, TextIO

from extract.result import ExtractionResult
from forms.catalogue import catalogue


def display_width(text: str) -> int:
    """Columns a text takes in a terminal (full-width characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（なし）"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


#: Why a field has no value, as the clerk reads it.
_MISSING = {"label_not_found": "見つかりません（項目名を読めず）", "empty": "未記入", "unparsed": "読取不可（要確認）"}


def print_result_table(result: ExtractionResult, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    forms = catalogue()
    for doc in result.documents:
        title = forms[doc.form].title if doc.form in forms else "不明な書類（既知の様式ではありません）"
        print(f"■ {doc.file}  p.{doc.first_page}–{doc.first_page + doc.pages - 1}  {doc.form or 'unknown'}  {title}", file=out)
        if doc.form is None:
            snippet = (doc.text or "").strip().replace("\n", " ")[:200]
            print(f"  本文: {snippet or '（文字なし）'}", file=out)
        for key, f in doc.fields.items():
            mark = "要確認" if f.review else ""
            print(f"  {pad(key, 30)} {pad(_show(f.value), 40)} {f.confidence:4.2f} {f.source:8} {mark}", file=out)
        for m in doc.missing:
            print(f"  {pad(m.field, 30)} {pad('—', 40)} {_MISSING[m.reason]}", file=out)
        for c in doc.checks:
            print(f"  [{c.status}] {c.rule} ({c.clause}) {c.message}", file=out)
        print(file=out)
