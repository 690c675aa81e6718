"""Values typed into a web form (a clerk's correction, a supplier's form) as typed record values."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from forms.schema import FieldDecl, RowDecl

EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


def parse_value(decl: FieldDecl, raw: Any, values: list[str]) -> Any:
    """Turn what the clerk typed into the typed value of DESIGN 4.2 (raises ValueError)."""
    if decl.type == "multi_choice":
        allowed = {str(c.value) for c in decl.choices}
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValueError("選択肢にない値です")
        return values
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if text == "":
        return None
    if decl.type == "bool":
        if text not in ("true", "false"):
            raise ValueError("はい・いいえを選んでください")
        return text == "true"
    if decl.type in ("yen", "int"):
        digits = text.replace(",", "").replace("円", "").replace("¥", "").replace("￥", "").strip()
        if digits.startswith("-") and digits[1:].isdigit():
            raise ValueError("0以上の数で入力してください")
        if not digits.isdigit():
            raise ValueError("数字で入力してください（例: 12,000）")
        return int(digits)
    if decl.type == "percent":
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            raise ValueError("数値で入力してください（例: 62.5）") from None
        if not 0 <= number <= 100:
            raise ValueError("0から100までの数で入力してください")
        return number
    if decl.type == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("日付は YYYY-MM-DD で入力してください") from None
    if decl.type == "choice":
        if text not in {str(c.value) for c in decl.choices}:
            raise ValueError("選択肢にない値です")
        return text
    if decl.type == "postal_code":
        digits = text.replace("-", "").replace("〒", "").strip()
        if len(digits) != 7 or not digits.isdigit():
            raise ValueError("郵便番号は7桁で入力してください")
        return f"{digits[:3]}-{digits[3:]}"
    if decl.type == "email" and not EMAIL.fullmatch(text):
        raise ValueError("メールアドレスの形式ではありません（例: info@example.jp）")
    if decl.type == "phone":
        digits = re.sub(r"[-()（） ]", "", text)
        if not digits.isdigit() or not 10 <= len(digits) <= 11 or not digits.startswith("0"):
            raise ValueError("電話番号は市外局番から、数字10桁または11桁で入力してください（例: 0279-22-2111）")
        return text
    if decl.type == "url" and not URL.fullmatch(text):
        raise ValueError("ウェブサイトは https:// から入力してください（例: https://example.jp/）")
    return " ".join(text.split()) if not decl.multiline else text


def form_text(decl: FieldDecl, value: Any) -> str:
    """A typed value as the text shown in an input."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def guided_parts(decl: FieldDecl, value: Any) -> list[str]:
    """The text of each blank of a guided field's inputs for ``value`` (a value not in the
    guide's shape stays whole in the first)."""
    blanks = decl.blanks()
    text = form_text(decl, value)
    parts = decl.split_guided(text) if text else None
    return parts if parts is not None else [text] + [""] * (blanks - 1)


def parse_form(fields: list[FieldDecl], form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Parse every declared field from a submitted form: (values, errors by key). A guided
    field (時期限定（　頃～　頃）) comes as one input a blank, ``f.KEY.1`` …, and is the guide
    with them filled in."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for decl in fields:
        name = f"f.{decl.key}"
        if decl.guide is not None:
            parts = [unicodedata.normalize("NFKC", form.get(f"{name}.{n}", "") or "") for n in range(1, decl.blanks() + 1)]
            values[decl.key] = parse_value(decl, decl.join_guided(parts), [])
            if decl.required and values[decl.key] is None:
                errors[decl.key] = "必須の項目です"
            continue
        try:
            value = parse_value(decl, form.get(name), form.getlist(name))
        except ValueError as exc:
            errors[decl.key] = str(exc)
            # what was typed is shown again with its message
            values[decl.key] = form.getlist(name) if decl.type == "multi_choice" else form.get(name, "")
            continue
        if decl.required and value in (None, "", []):
            errors[decl.key] = "必須の項目です"
        values[decl.key] = value
    return values, errors


def caption(row: RowDecl, f: FieldDecl) -> str:
    """What an input is called on the supplier's web form."""
    if f.label:
        return f.label
    if f.guide is not None:  # its inputs stand among the guide's words
        return row.label
    if f.type == "date" and f.scan:
        return "日付"
    if len(row.fields) > 1 and f.suffix:
        return f"{row.label} {f.suffix}"
    return row.label + (f"（{f.suffix}）" if f.suffix else "")
