"""The declaration of a form: one model drives extraction, blank forms, web forms and the API.

A form is a list of sections; a section is laid out either as lines of text (the applicant
block at the top of a letter) or as a table of numbered rows. A row has a printed label (the
anchor that extraction looks for) and one or more fields. A field is read from the row's text
by its own sub-label, by the marker printed after it (``円（税抜）``), by its choices' labels,
or, when it is the row's only field, as the whole row value.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FieldType = Literal[
    "text",
    "date",
    "yen",
    "int",
    "percent",
    "postal_code",
    "phone",
    "email",
    "url",
    "katakana",
    "choice",
    "multi_choice",
    "bool",
]

#: The keys of the 28 allergens as printed on 様式第1号, in the order of the form's grid.
ALLERGENS: tuple[str, ...] = (
    "卵", "乳", "小麦", "そば", "落花生", "えび", "かに",
    "さけ", "さば", "あわび", "いか", "いくら", "牛肉", "豚肉",
    "鶏肉", "ゼラチン", "アーモンド", "カシューナッツ", "くるみ", "大豆", "ごま",
    "マカダミアナッツ", "やまいも", "オレンジ", "キウイ", "バナナ", "もも", "りんご",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    """One tickable option. ``value`` is what the record holds; ``label`` what is printed."""

    value: str | bool
    label: str
    variants: tuple[str, ...] = ()


class FieldDecl(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: FieldType = "text"
    #: Sub-label printed beside the value inside the row (フリガナ, 電話番号 …).
    label: str | None = None
    variants: tuple[str, ...] = ()
    #: Text printed right after the value (円（税抜）); also what locates it in the row.
    suffix: str | None = None
    #: Text printed right before the value (市外（ ); the value then ends at ``suffix``.
    prefix: str | None = None
    choices: tuple[Choice, ...] = ()
    #: Where a checkbox stands relative to its choice's label.
    box: Literal["before", "after"] = "before"
    #: Read the value from the lines below the row's label line (the allergen grid).
    below: bool = False
    multiline: bool = False
    required: bool = False
    #: Columns of the choice grid in the blank form.
    grid_columns: int | None = None
    #: Shown to suppliers in blank and web forms.
    hint: str | None = None
    #: Printed wording the value is written into, ``{}`` standing for each blank, as the
    #: seed's form prints it (``{}頃～{}頃`` between the brackets of 時期限定（　頃～　頃）,
    #: ``梱包重量{}kg　{}サイズ``). Blank forms print the words with room to write at each
    #: ``{}``; the value is the wording with the blanks filled in (4月上旬頃～8月下旬頃).
    #: Unless a ``pattern`` is given, the field gets one that reads the guide's words alone
    #: (a form left blank) as no value (:func:`guide_pattern`).
    guide: str | None = None
    #: Read the first value of this type found anywhere in the section (dates at the top).
    scan: bool = False
    #: A regular expression the value must match in the row's text (group 1 if any).
    pattern: str | None = None
    #: ``boxes``: choices are ticked boxes; ``phrases``: the choice whose label (a statement
    #: such as 滞納はありません) appears anywhere in the document.
    read_as: Literal["boxes", "phrases"] = "boxes"
    #: Values a text field mostly takes (the names of taxes): a scanned reading one character
    #: off exactly one of them (軽邊動車税) is read as it. Others are kept as read.
    known: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _pattern_of_guide(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("guide") and not data.get("pattern"):
            data = {**data, "pattern": guide_pattern(str(data["guide"]))}
        return data

    @model_validator(mode="after")
    def _choices_match_type(self) -> "FieldDecl":
        if self.type in ("choice", "multi_choice") and not self.choices:
            raise ValueError(f"field {self.key!r}: type {self.type} needs choices")
        if self.type == "bool" and len(self.choices) not in (0, 2):
            raise ValueError(f"field {self.key!r}: a bool field has two choices or none")
        if self.choices and self.type not in ("choice", "multi_choice", "bool"):
            raise ValueError(f"field {self.key!r}: choices given for type {self.type}")
        if self.known and self.type != "text":
            raise ValueError(f"field {self.key!r}: known values given for type {self.type}")
        if self.guide is not None:
            if self.type != "text" or self.multiline:
                raise ValueError(f"field {self.key!r}: a guide is for one-line text fields")
            if "{}" not in self.guide or re.search(r"[{}]", self.guide.replace("{}", "")):
                raise ValueError(f"field {self.key!r}: a guide marks its blanks with {{}} and holds no other brace")
            if any(not w.strip() for w in self.guide_words()[1:-1]):
                raise ValueError(f"field {self.key!r}: the blanks of a guide are parted by words")
        return self

    @property
    def is_checkbox(self) -> bool:
        return bool(self.choices)

    def all_labels(self) -> tuple[str, ...]:
        return tuple(x for x in (self.label, *self.variants) if x)

    def guide_words(self) -> tuple[str, ...]:
        """The printed words of the guide around its blanks: one more than the blanks
        (``{}頃～{}頃`` → ``("", "頃～", "頃")``); ``("",  "")`` without a guide."""
        return tuple((self.guide or "{}").split("{}"))

    def blanks(self) -> int:
        """How many places the value is written in (1 without a guide)."""
        return len(self.guide_words()) - 1

    def split_guided(self, value: str) -> list[str] | None:
        """What goes in each blank of the guide for ``value`` (4月上旬頃～8月下旬頃 →
        [4月上旬, 8月下旬]), or None when the value is not the guide filled in. The words are
        matched as a person writes them: NFKC (～ as ~) and spaces anywhere around them."""
        if self.guide is None:
            return [value]
        text = unicodedata.normalize("NFKC", value)
        pattern = "(.*?)".join(
            r"\s*" + r"\s*".join(re.escape(ch) for ch in _fold_spaces(word)) + r"\s*"
            for word in self.guide_words()
        )
        found = re.fullmatch(pattern, text, flags=re.DOTALL)
        return [part.strip() for part in found.groups()] if found else None

    def tidy_guided(self, value: Any) -> Any:
        """A value read from a guided field as the guide filled in: NFKC, without the spaces
        a page puts between the blanks and the guide's words (梱包重量 1.2 kg 60 サイズ →
        梱包重量1.2kg 60サイズ, 4月上旬 頃~ 8月下旬 頃 → 4月上旬頃~8月下旬頃). A value not in the
        guide's shape, or of a field without a guide, is given back as it is."""
        if self.guide is None or not isinstance(value, str):
            return value
        parts = self.split_guided(value)
        if parts is None:
            return value
        return " ".join(unicodedata.normalize("NFKC", self.join_guided(parts)).split())

    def join_guided(self, parts: list[str]) -> str:
        """The value of the blanks' texts: the guide with them filled in ("" when all are empty)."""
        parts = [p.strip() for p in parts]
        if self.guide is None:
            return parts[0] if parts else ""
        if not any(parts):
            return ""
        words = self.guide_words()
        return words[0] + "".join(p + w for p, w in zip(parts, words[1:]))


#: Characters a printed ～ is read as (NFKC keeps 〜 and ー apart from ~).
_WAVE = "[~〜～∼\\-ー－−]"


def guide_pattern(guide: str) -> str:
    """A ``pattern`` that reads a guide's words by themselves (``頃～　頃``: the blanks left
    empty) as an empty value, and anything else as it is: group 1 is ``""`` or the text."""
    words = "".join(_fold_spaces(w) for w in guide.split("{}"))
    bare = r"\s*".join(_WAVE if ch == "~" else re.escape(ch) for ch in words)
    return rf"(?s)^(?:\s*{bare}\s*$)?(.*)$"


def _fold_spaces(text: str) -> str:
    """NFKC without any whitespace: how a guide's words are compared with a value."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


class RowDecl(_Strict):
    #: Printed row number (1 商品名); other layouts number differently, so it is not matched.
    number: int | None = None
    label: str
    variants: tuple[str, ...] = ()
    #: Small print under the label (ポータルサイト等に転記します).
    note: str | None = None
    fields: tuple[FieldDecl, ...]
    #: Printed text in the row that is not a field (the allergen note, 添付資料 text).
    text: str | None = None

    def all_labels(self) -> tuple[str, ...]:
        return (self.label, *self.variants)


class SectionDecl(_Strict):
    layout: Literal["lines", "table", "text"]
    #: For ``text`` sections: paragraphs printed as they are.
    paragraphs: tuple[str, ...] = ()
    rows: tuple[RowDecl, ...] = ()
    align: Literal["left", "right", "center"] = "left"


class Implication(_Strict):
    """Fills a missing field from another: 未納税額 0 円 means no arrears, and back."""

    when: str
    op: Literal["==", ">"] = "=="
    equals: int | str | bool
    then: str
    value: int | str | bool


class FormDecl(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*(\.[a-z0-9_]+)?$")
    #: Program pack the form belongs to; None for documents issued by others.
    program: str | None = None
    title: str
    #: Other ways the title is printed (other cities' versions, OCR-friendly short forms).
    title_variants: tuple[str, ...] = ()
    #: 様式第1号 …; None for documents issued by others.
    form_number: str | None = None
    #: Whether suppliers are given a blank form for it.
    blank: bool = True
    description: str = ""
    sections: tuple[SectionDecl, ...]
    implications: tuple[Implication, ...] = ()
    #: Prices printed 税抜 and 税込 side by side (excl key, incl key): on a scan, one digit
    #: misread in either is set right by the other (税込 = 税抜 × 1.08 or 1.10).
    tax_pairs: tuple[tuple[str, str], ...] = ()

    @model_validator(mode="after")
    def _unique_keys(self) -> "FormDecl":
        seen: set[str] = set()
        for f in self.fields():
            if f.key in seen:
                raise ValueError(f"field {f.key!r} is declared twice")
            seen.add(f.key)
        for pair in self.tax_pairs:
            for key in pair:
                if key not in seen:
                    raise ValueError(f"tax pair names unknown field {key!r}")
        for imp in self.implications:
            for key in (imp.when, imp.then):
                if key not in seen:
                    raise ValueError(f"implication names unknown field {key!r}")
        for section in self.sections:
            for row in section.rows:
                for f in row.fields:
                    if f.guide is not None and section.layout != "table":
                        raise ValueError(f"field {f.key!r}: a guide is printed in a table row only")
        return self

    def rows(self) -> list[RowDecl]:
        return [r for s in self.sections for r in s.rows]

    def fields(self) -> list[FieldDecl]:
        return [f for r in self.rows() for f in r.fields]

    def field(self, key: str) -> FieldDecl:
        for f in self.fields():
            if f.key == key:
                return f
        raise KeyError(key)

    def keys(self) -> list[str]:
        return [f.key for f in self.fields()]

    def json_schema_for_record(self) -> dict[str, Any]:
        """JSON Schema of the ``fields`` of an extraction result for this form (API docs)."""
        props: dict[str, Any] = {}
        for f in self.fields():
            props[f.key] = {"$ref": "#/components/schemas/ExtractedField", "description": _describe(f)}
        return {"type": "object", "properties": props, "additionalProperties": False}


_ASCII_TOKEN = re.compile(r"^[A-Za-z0-9_-]+$")


def choice_token(field: FieldDecl, choice: Choice) -> str:
    """The partial name of a choice's checkbox in our fillable PDF: its value when that is
    ASCII-safe, else its index in the declaration; bools give ``true``/``false``."""
    if isinstance(choice.value, bool):
        return "true" if choice.value else "false"
    if _ASCII_TOKEN.match(choice.value):
        return choice.value
    return str(field.choices.index(choice))


def widget_name(field: FieldDecl, choice: Choice | None = None, *, part: int | None = None) -> str:
    """AcroForm name of a field's widget: the key for text fields, ``key.token`` for each
    choice's checkbox (``carriers.yamato``, ``allergens.0``, ``allergens_present.true``),
    ``key.N`` for the N-th blank of a guided text field, from 1 (``supply_period_detail.2``:
    the blank after 頃～; a guided field has no widget named by its key alone, since none
    holds its whole value). The writer (generate.blank_forms) and the reader
    (extract.locate) both use this."""
    if choice is not None:
        return f"{field.key}.{choice_token(field, choice)}"
    if field.guide is not None:
        if part is None:
            raise ValueError(f"field {field.key!r} has a guide: its widgets are named by blank")
        return f"{field.key}.{part + 1}"
    return field.key


_JSON_TYPES = {
    "text": "string",
    "date": "string (YYYY-MM-DD)",
    "yen": "integer (yen)",
    "int": "integer",
    "percent": "number (percent)",
    "postal_code": "string (NNN-NNNN)",
    "phone": "string",
    "email": "string",
    "url": "string",
    "katakana": "string (katakana)",
    "choice": "string",
    "multi_choice": "array of strings",
    "bool": "boolean",
}


def _describe(f: FieldDecl) -> str:
    kind = _JSON_TYPES[f.type]
    if f.choices and f.type != "bool":
        kind += " one of " + ", ".join(str(c.value) for c in f.choices)
    return f"{f.label or f.key}: {kind}"


# --- mail forms, mail settings and retention (issue 25) ------------------------------------


class MailItemDecl(_Strict):
    """One item an applicant types into the body of a mail (①所在地 …).

    Found by its printed number (①, 1., (1)) and its label or a variant, the value after a
    colon or on the lines under it, up to the next item."""

    number: int | None = None
    label: str
    variants: tuple[str, ...] = ()
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: FieldType = "text"
    multiline: bool = False
    required: bool = False

    def all_labels(self) -> tuple[str, ...]:
        return (self.label, *self.variants)


class MailFormDecl(_Strict):
    """A 'mail form': the items a program asks for in the body of an application by e-mail
    (``forms/catalogue/mail/<id>.yaml``). Its keys are those of the program's paper form, so
    a case read from a mail is checked and answered like one read from paper."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*\.mail$")
    program: str
    title: str
    #: The seed's clause that lists the items (001 4).
    clause: str = ""
    items: tuple[MailItemDecl, ...]

    @model_validator(mode="after")
    def _unique_items(self) -> "MailFormDecl":
        keys = [i.key for i in self.items]
        if len(set(keys)) != len(keys):
            raise ValueError("an item key is declared twice")
        if any(i.type in ("choice", "multi_choice", "bool") for i in self.items):
            raise ValueError("mail items are typed text, not choices")
        return self


class MailSettings(_Strict):
    """How a program takes and answers mail (``forms/programs/<id>/handling.yaml``)."""

    #: The subject the program tells applicants to write; None when it takes no mail.
    subject: str | None = None
    subject_variants: tuple[str, ...] = ()
    #: The mail form whose items the body is read by.
    form: str | None = None
    #: The subject of a notice sent by mail, by notice kind ({notice}: its Japanese name).
    notice_subject: str = "{municipality}からの{notice}の送付について"
    #: The body; {addressee} {notice} {municipality} {department} {program} {contact}.
    notice_body: str = (
        "{addressee} 様\n\n{program}の審査結果について、{notice}を添付のとおり送付します。\n"
        "添付のPDFをご確認ください。\n\n{department}\n{contact}"
    )
    #: The seed's clause that says results are sent by mail.
    clause: str = ""


class RetentionDecl(_Strict):
    """How long a case's personal data is kept after the case ends (a decision that ends it:
    rejection or withdrawal), and the clause that says so."""

    months: int = Field(ge=0, le=240)
    clause: str = ""


class MinistryDecl(_Strict):
    """Where the yearly filing to 総務省 finds a gift's facts in a case's records (first key
    with a value wins)."""

    #: The 地場産品基準 category (別紙① 1–9), a choice field, when the program's forms declare one.
    category_field: str | None = None
    procurement_price: tuple[str, ...] = ("gift_price_incl_tax", "gift_price")
    place: tuple[str, ...] = ("manufacturing_place_detail", "manufacturing_place", "production_place")


class ProgramHandling(_Strict):
    mail: MailSettings = MailSettings()
    #: None: the program declares no period, and its cases are never purged.
    retention: RetentionDecl | None = None
    ministry: MinistryDecl = MinistryDecl()
