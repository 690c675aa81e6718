"""Reading a received message: its headers, the body's items by a mail form, its attachments.

Pure functions over bytes (no Flask, no database): ``web.mail_intake`` stores what they give.
A message that cannot be read as mail is ``MalformedMessage`` (it then waits in the clerk's
queue, kept as it came).
"""

from __future__ import annotations

import email
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime

from rapidfuzz import fuzz

from extract.locate import REVIEW_THRESHOLD
from extract.normalize import normalize_value
from extract.result import ExtractedField, MissingField
from forms.errors import InputError
from forms.schema import MailFormDecl, MailItemDecl


class MalformedMessage(InputError):
    """The bytes are not a message that can be read (no headers, broken MIME, undecodable)."""

    code = "malformed_message"


@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMessage:
    message_key: str
    message_id: str | None
    subject: str
    sender: str
    date: datetime | None
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    #: What was wrong while reading (MIME defects), in words, with no content of the message.
    problems: list[str] = field(default_factory=list)


def message_key(raw: bytes, message_id: str | None) -> str:
    """What makes two copies of a message one: its Message-ID, else its bytes."""
    if message_id:
        return hashlib.sha256(b"mid:" + message_id.strip().strip("<>").encode("utf-8", "replace")).hexdigest()
    return hashlib.sha256(b"raw:" + raw).hexdigest()


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a header that cannot be decoded is read as missing
        return ""
    return "" if value is None else str(value)


def parse_message(raw: bytes) -> ParsedMessage:
    """Headers, the text body (text/plain preferred; HTML made text) and the attachments."""
    if not raw.strip():
        raise MalformedMessage("空のメッセージです")
    try:
        msg = email.message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # noqa: BLE001 - the parser's own failures: the message is malformed
        raise MalformedMessage(f"メールとして読めません ({type(exc).__name__})") from None
    assert isinstance(msg, EmailMessage)
    mid = _header(msg, "Message-ID").strip() or None
    key = message_key(raw, mid)
    if not any(msg.get(h) for h in ("From", "Subject", "Date", "Message-ID")):
        raise MalformedMessage("メールのヘッダがありません")
    problems = sorted({type(d).__name__ for d in msg.defects})
    sent = None
    try:
        sent = parsedate_to_datetime(_header(msg, "Date")) if msg.get("Date") else None
    except (TypeError, ValueError):
        problems.append("InvalidDate")
    body, attachments, part_problems = _walk(msg)
    problems += part_problems
    return ParsedMessage(
        message_key=key,
        message_id=mid,
        subject=_subject(raw) or _header(msg, "Subject").strip(),
        sender=parseaddr(_header(msg, "From"))[1],
        date=sent,
        body=body,
        attachments=attachments,
        problems=problems,
    )


ISO2022JP_NAMES = ("iso-2022-jp", "iso2022-jp", "iso-2022-jp-ms", "csiso2022jp", "cp50220", "cp50221", "cp50222")


def _jis_pair_to_sjis(j1: int, j2: int) -> bytes:
    s1 = ((j1 + 1) >> 1) + 0x70
    if s1 >= 0xA0:
        s1 += 0x40
    if j1 & 1:
        s2 = j2 + 0x1F
        if s2 >= 0x7F:
            s2 += 1
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))


def decode_iso2022jp(data: bytes) -> str:
    """ISO-2022-JP as Japanese mail programs write it: JIS X 0208 with the vendors' extra rows
    (①, ㈱, Ⅰ of CP50220), which Python's iso2022_jp codec refuses. Each two-byte run is read
    through Shift_JIS (cp932), where those rows are; ESC ( I half-width katakana too."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        if data[i] == 0x1B:
            seq = data[i + 1 : i + 3]
            if seq in (b"$B", b"$@"):
                mode, i = "jis", i + 3
                continue
            if seq in (b"(B", b"(J"):
                mode, i = "ascii", i + 3
                continue
            if seq == b"(I":
                mode, i = "kana", i + 3
                continue
        b = data[i]
        if mode == "jis" and b not in (0x0A, 0x0D) and i + 1 < len(data):
            out += _jis_pair_to_sjis(b, data[i + 1])
            i += 2
            continue
        out.append(b + 0x80 if mode == "kana" and 0x21 <= b <= 0x5F else b)
        i += 1
    return out.decode("cp932", "replace")


SJIS_NAMES = ("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932")


def decode_text(data: bytes, charset: str | None) -> str:
    """Text in the charset a mail program declared, read as those programs write it: ISO-2022-JP
    with the vendors' rows, Shift_JIS as cp932 (①, ㈱, 髙), undeclared 8-bit as UTF-8 (else cp932)."""
    name = (charset or "").lower().strip()
    if name in ISO2022JP_NAMES:
        return decode_iso2022jp(data)
    if name in SJIS_NAMES:
        return data.decode("cp932", "replace")
    if name in ("", "us-ascii", "ascii", "unknown-8bit", "utf-8", "utf8"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp932" if not name.startswith("utf") else "utf-8", "replace")
    try:
        return data.decode(name, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def _subject(raw: bytes) -> str:
    """The Subject header: encoded words decoded by ``decode_text`` (ISO-2022-JP as mail
    programs write it), raw 8-bit text (RFC 6532) read as UTF-8, else Shift_JIS."""
    from email.header import decode_header

    try:
        head = email.message_from_bytes(raw, policy=policy.compat32)
        value = head.get("Subject")
        if value is None:
            return ""
        parts = []
        # a Header (8-bit bytes, charset unknown-8bit) or a str with encoded words
        for chunk, charset in decode_header(value):
            parts.append(chunk if isinstance(chunk, str) else decode_text(chunk, charset or "us-ascii"))
        return "".join(parts).replace("\r", "").replace("\n", "").strip()
    except Exception:  # noqa: BLE001 - the parsed header is used instead
        return ""


def _walk(msg: EmailMessage) -> tuple[str, list[Attachment], list[str]]:
    problems: list[str] = []
    body_part = None
    try:
        body_part = msg.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001
        problems.append("NoBody")
    body = ""
    if body_part is not None:
        try:
            payload = body_part.get_payload(decode=True)
            body = decode_text(payload if isinstance(payload, bytes) else b"", body_part.get_content_charset())
        except (LookupError, ValueError, AssertionError) as exc:
            problems.append(f"BodyUndecodable:{type(exc).__name__}")
            payload = body_part.get_payload(decode=True) or b""
            body = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
        if body_part.get_content_subtype() == "html":
            body = html_to_text(body)
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part is body_part or part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and not filename:
            continue  # the other half of multipart/alternative, inline text
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        problems += sorted({type(d).__name__ for d in part.defects})
        attachments.append(Attachment(filename or "attachment", part.get_content_type(), data))
    return body, attachments, problems


def html_to_text(html: str) -> str:
    import lxml.html

    if not html.strip():
        return ""
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", html)
    try:
        return str(lxml.html.fromstring(html).text_content())
    except Exception:  # noqa: BLE001 - not HTML after all
        return re.sub(r"<[^>]+>", "", html)


# --- the body's items --------------------------------------------------------------------

_LEAD = re.compile(r"^[\s・\-*■□●○◆◇▼▽►>＞【［\[]*")
_NUMBER = re.compile(r"^(?:\(|（)?(\d{1,2})(?:\)|）|\.|．|、|:|：|】|\]|\s)?\s*")
_SEPARATORS = ":：】]」)）-ー－=＝　 \t、"
_SIGNATURE = re.compile(r"^(--\s*|[-‐―─━=＝_＿~〜]{4,}.*|以上\s*)$")


@dataclass
class _Start:
    item: MailItemDecl
    line: int
    rest: str
    exact: bool
    numbered: bool


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _item_start(line: str, items: tuple[MailItemDecl, ...]) -> _Start | None:
    text = unicodedata.normalize("NFKC", line)
    text = _LEAD.sub("", text)
    number = None
    m = _NUMBER.match(text)
    if m:
        number = int(m.group(1))
        text = text[m.end():]
    squashed = _squash(text)
    best: tuple[float, int, MailItemDecl, int] | None = None  # score, label length, item, cut
    for item in items:
        for label in item.all_labels():
            want = _squash(label)
            if squashed.startswith(want):
                score = 100.0
            elif len(squashed) >= len(want) >= 3:
                score = fuzz.ratio(squashed[: len(want)], want)
            else:
                continue
            if number is not None and item.number == number:
                score += 5
            if best is None or (score, len(want)) > (best[0], best[1]):
                best = (score, len(want), item, len(want))
    if best is None:
        return None
    score, _, item, cut = best
    numbered = number is not None and item.number == number
    exact = score >= 100
    if not (exact or (numbered and score >= 75) or score >= 90):
        return None
    rest = _after(text, cut)
    return _Start(item=item, line=0, rest=rest, exact=exact, numbered=numbered)


def _after(text: str, squashed_length: int) -> str:
    """The text after the first ``squashed_length`` non-space characters, separators off."""
    seen = 0
    cut = 0
    for i, ch in enumerate(text):
        if seen >= squashed_length:
            break
        if not ch.isspace():
            seen += 1
        cut = i + 1
    return text[cut:].lstrip(_SEPARATORS).strip()


@dataclass
class BodyReading:
    fields: dict[str, ExtractedField]
    missing: list[MissingField]


def read_body(body: str, form: MailFormDecl) -> BodyReading:
    """The mail form's items read from a body: each value typed like a paper form's, with a
    confidence and the review mark; a value not found or not readable as its type is missing."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts: list[_Start] = []
    taken: set[str] = set()
    end = len(lines)
    for n, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith((">", "＞")):
            continue  # quoted text of an earlier message
        if starts and _SIGNATURE.match(stripped):
            end = n
            break
        start = _item_start(line, tuple(i for i in form.items if i.key not in taken))
        if start is not None:
            start.line = n
            starts.append(start)
            taken.add(start.item.key)
    fields: dict[str, ExtractedField] = {}
    missing: list[MissingField] = []
    for i, start in enumerate(starts):
        stop = starts[i + 1].line if i + 1 < len(starts) else end
        block = [start.rest] + [ln.strip() for ln in lines[start.line + 1 : stop]]
        block = [b for b in block if not b.startswith((">", "＞"))]
        while block and not block[-1]:
            block.pop()
        while block and not block[0]:
            block.pop(0)
        read = _value(start, block)
        if isinstance(read, str):
            missing.append(MissingField(field=start.item.key, reason=read))  # type: ignore[arg-type]
        else:
            fields[start.item.key] = read
    for item in form.items:
        if item.key not in taken:
            missing.append(MissingField(field=item.key, reason="label_not_found"))
    return BodyReading(fields=fields, missing=missing)


def _value(start: _Start, block: list[str]) -> ExtractedField | str:
    item = start.item
    if not block:
        return "empty"
    extra_lines = False
    if item.multiline:
        raw = "\n".join(block)
    else:
        raw = block[0]
        extra_lines = any(b for b in block[1:])
    confidence = 0.99 if start.exact else 0.7
    if start.exact and not start.numbered and item.number is not None:
        confidence = 0.95  # the label as declared, its number not written or another
    if item.multiline:
        parts = [normalize_value("text", ln) for ln in raw.split("\n") if ln.strip()]
        value = "\n".join(str(p.value) for p in parts if p.value is not None) or None
        fit = min((p.fit for p in parts), default=0.0)
    else:
        norm = normalize_value(item.type, raw)
        value, fit = norm.value, norm.fit
    if value is None:
        return "unparsed"
    confidence = round(min(confidence, confidence * fit if fit < 1 else confidence), 3)
    if extra_lines:
        confidence = min(confidence, round(REVIEW_THRESHOLD - 0.05, 3))
    return ExtractedField(
        value=value,
        confidence=confidence,
        source="text",
        review=confidence < REVIEW_THRESHOLD,
        raw=raw if raw != value else None,
    )
