"""Repairs for what scans do to values, applied after a field is located.

Tesseract misreads in regular ways: it doubles a small kana (こんにやゃやく), reads × as x, an
@ as ⑥, the end of a domain as Jjp, a place name one character off (波川市), one digit of a
price. Each repair here is narrow and applies to OCR'd text only (except the label tail, which
any wrapped cell produces). A repair with one clear answer (a known place name, a domain end)
keeps the field's confidence; one that chooses between readings (a price digit) marks the
field for review. The text as read stays in the field's ``raw``.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from rapidfuzz.distance import Levenshtein

from extract import lexicon
from extract.keys import CONTRACTED_SMALL, TO_LARGE, TO_SMALL
from extract.result import ExtractedField
from extract.vocabulary import correct_places, restore_small_kana_words
from forms.schema import FormDecl, RowDecl

#: A full stop between a number and the counter or unit after it (年間700.個) is a speck: a
#: decimal point has a digit after it.
_SPECK_AFTER_NUMBER = re.compile(r"(?<=[0-9])[.,](?=[\u3040-\u9fff])")
#: So is one between Japanese and the number after it (から.8月中旬), and one standing alone
#: after a value's last Japanese character (業務部 .): no writing puts a full stop there.
_SPECK_BEFORE_NUMBER = re.compile(r"(?<=[\u3040-\u9fff])\s*[.,](?=\s*[0-9])|(?<=[\u3040-\u9fff])\s+[.,]$")
#: The end of a label with its colon read into a value (住所又は所在地: read again as 3: 群馬県…):
#: one or two characters and a colon before the value.
#: Not a time (10:30まで).
_LABEL_END_WITH_COLON = re.compile(r"^(?![0-9]{1,2}\s*[:：]\s*[0-9])[^\s:：]{1,2}\s*[:：]\s*(?=\S)")
#: A 5 read twice, as S and as 5, before its unit (100サイズ・S5kg): no size or count is S5.
_FIVE_AS_S5 = re.compile(r"(?<![A-Za-z0-9])S(?=5(?:[0-9.]|kg|g|cm|mm|ml|L|本|個|袋|枚|パック))")
#: 日 after a number read as 晶 (three 日): no count of 晶 is written (常温で180晶).
_DAYS_AS_CRYSTAL = re.compile(r"(?<=[0-9])晶")
_BRACKETS = {"「": "」", "『": "』", "（": "）", "(": ")"}


def _unpaired_opening_bracket(value: str) -> str:
    """An opening bracket before a value with none closing it is a speck or a ruled line's end
    (「60サイズ・1.2kg)."""
    if value and value[0] in _BRACKETS and _BRACKETS[value[0]] not in value:
        return value[1:].lstrip()
    return value


#: Specks a scan leaves before a value (. , ・, a stroke of an underline) are not part of it.
LEADING_SPECKS = ".,・、。'\"`”“_"
#: A speck or stroke after the full stop that ends a sentence (…お米です。~) is no part of it.
_SPECK_AFTER_FULL_STOP = re.compile(r"(?<=。)\s*[~_|'`]+$")
_STRIP = " \t\n：:　"


#: Tesseract, unsure whether a kana is small, sometimes writes both (こんにやゃやく): a run of
#: the large and small forms of ya/yu/yo never occurs in a word, so it stands for the small one.
_DOUBLED_SMALL_KANA = re.compile(r"[やゃ]*ゃ[やゃ]*|[ゆゅ]*ゅ[ゆゅ]*|[よょ]*ょ[よょ]*|[ヤャ]*ャ[ヤャ]*|[ユュ]*ュ[ユュ]*|[ヨョ]*ョ[ヨョ]*")


def _undouble_small_kana(text: str) -> str:
    return _DOUBLED_SMALL_KANA.sub(lambda m: m.group(0) if len(m.group(0)) == 1 else next(c for c in m.group(0) if c in CONTRACTED_SMALL), text)


#: Tesseract's ``jpn`` reads the 郎 of given names (太郎, 一郎, 三郎) as 朗, every time in our
#: scans; after these characters 郎 is by far the commoner name (一朗 exists: marked for review).
_NAME_RO = re.compile(r"(?<=[一二太次三四五六七八九十])朗")
#: A colon inside a scanned text value that is no time of day (60サイズ: 2kg for サイズ・2kg):
#: a misread middle dot or speck as often as a colon written there.
_ODD_COLON = re.compile(r"(?<![0-9])[:：]|[:：](?![0-9]{2})")

#: Legal forms of companies and bodies, which name most suppliers and issuers.
ENTITY_TYPES = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "一般社団法人", "一般財団法人", "農業協同組合")


def _correct_entity_types(text: str) -> str:
    """株式全社 → 株式会社: a legal form one character off, its last character right, when only
    one form is that close."""
    out = text
    for size in sorted({len(e) for e in ENTITY_TYPES}):
        forms = [e for e in ENTITY_TYPES if len(e) == size]
        i = 0
        while i + size <= len(out):
            window = out[i : i + size]
            # the last character must agree: 合同会議 is a meeting, not a 合同会社
            near = [e for e in forms if window[-1] == e[-1] and sum(a != b for a, b in zip(window, e)) == 1]
            if window not in ENTITY_TYPES and len(near) == 1:
                out = out[:i] + near[0] + out[i + size :]
                i += size
            else:
                i += 1
    return out


_TIMES = re.compile(r"(?<=[0-9gGLl\u3040-\u9fff])\s*[xX]\s*(?=[0-9])")
#: A digit glued to a quantity's unit before a separator (400g9・ベーコン): the tail of the g
#: or a speck read as a digit; no quantity is written so.
_DIGIT_AFTER_UNIT = re.compile(r"(?<=[0-9])(kg|mg|g|ml|mL|L|cc)[0-9](?=[・、,，/)）]|\s|$)")


#: Fields of goods and free text, whose kanji the dictionary corrects (上州和生 → 上州和牛). Not
#: names of people or bodies: a given name (和生) is no misread common word.
_DICTIONARY_FIELDS = re.compile(r"product_(name|spec|description)$|^item\d_name$|_reason$|_changes$|^(new_)?(best_before|shipping_timing)$")
_log = logging.getLogger(__name__)
#: Longer values are left as read: each correction weighs the whole text again (a 240-character
#: value with 60 misreads took 6 s), and a field of a form is far shorter.
DICTIONARY_MAX_CHARS = 400


def _correct_kanji(value: str, protect: tuple[str, ...]) -> tuple[str, bool]:
    """The value with misread kanji corrected from the dictionary, and whether any was."""
    if len(value) > DICTIONARY_MAX_CHARS:
        return value, False
    try:
        fixed, changes = lexicon.correct_kanji(value, protect=protect)
    except (ImportError, OSError) as exc:  # no dictionary or no fonts: read as it is
        _log.warning("kanji corrections skipped: %s", type(exc).__name__)
        return value, False
    return fixed, bool(changes)


def snap_to_known(field: ExtractedField, known: tuple[str, ...]) -> ExtractedField:
    """A scanned value one character (misread, dropped or added) off exactly one of the field's
    known values read as that value: 軽邊動車税 → 軽自動車税. Values of two characters or less
    are too short to tell; 巿県民税 is as near 町県民税 as 市県民税 and stays."""
    if field.source != "ocr" or not known or not isinstance(field.value, str):
        return field
    value = "".join(field.value.split())
    near = {value} if value in known else {k for k in known if len(k) >= 3 and Levenshtein.distance(value, k) == 1}
    if len(near) != 1 or (value := near.pop()) == field.value:
        return field
    return field.model_copy(update={"value": value})


def tidy_text(field: ExtractedField, row: RowDecl, prefer: tuple[str, ...], key: str = "") -> ExtractedField:
    """What a scan adds to a text value taken away: specks before it, x for ×; misread place
    names; in fields of goods and free text, kanji misread as a look-alike that makes no word
    (for review). (A wrapped label's tail no longer reaches a value: labels and values are
    apart in the page's structure.)"""
    value = field.value.lstrip(_STRIP + LEADING_SPECKS + ";|")
    if field.source == "ocr":
        value = _LABEL_END_WITH_COLON.sub("", value)
        value = _TIMES.sub("×", value)
        value = _DIGIT_AFTER_UNIT.sub(r"\1", value)
        value = re.sub(r"([%％])\1+", r"\1", value)  # 100%% : no text writes a sign twice
        value = _SPECK_AFTER_NUMBER.sub("", value)
        value = _SPECK_BEFORE_NUMBER.sub("", value)
        value = _SPECK_AFTER_FULL_STOP.sub("", value)
        value = _DAYS_AS_CRYSTAL.sub("日", value)
        value = _FIVE_AS_S5.sub("", value)
        value = _unpaired_opening_bracket(value)
        value = restore_small_kana_words(_undouble_small_kana(value))
        value = correct_places(value, prefer)
        value = _correct_entity_types(value)
        # 太朗 is a name too, if a rare one: the clerk confirms
        doubtful = bool(_NAME_RO.search(value)) or bool(_ODD_COLON.search(value))
        value = _NAME_RO.sub("郎", value)
        if _DICTIONARY_FIELDS.search(key):
            value, corrected = _correct_kanji(value, prefer)
            doubtful = doubtful or corrected
        if len(value) == 1 and not ("\u4e00" <= value <= "\u9fff"):
            value = ""  # one kana or letter alone in a cell is a speck read as text
        if doubtful:
            return field.model_copy(update={"value": value, "confidence": min(field.confidence, 0.6), "review": True})
    if value == field.value:
        return field
    return field.model_copy(update={"value": value})


def _with_tax(excl: int) -> set[int]:
    return {int(excl * rate) + k for rate in (1.08, 1.10) for k in (0, 1)}


def _one_digit_off(value: int) -> set[int]:
    """Numbers a scan could have misread as ``value``: one digit more, or one digit other."""
    digits = str(value)
    out = {int(digits[:i] + digits[i + 1 :]) for i in range(len(digits)) if len(digits) > 1}
    out |= {int(digits[:i] + d + digits[i + 1 :]) for i in range(len(digits)) for d in "0123456789"}
    out.discard(value)
    return {v for v in out if v > 0}


#: The confidence of a scanned 税抜/税込 pair that agrees.
CONFIRMED_PAIR = 0.9


def repair_tax_pairs(form: FormDecl, result: dict[str, ExtractedField], repaired: frozenset[str] = frozenset()) -> None:
    """A 税抜/税込 pair read from a scan that does not agree (5,130 and 85,540) is set right
    when exactly one one-digit repair of exactly one side makes it agree; marked for review;
    with no such repair, both are marked. A pair that agrees is sure (:data:`CONFIRMED_PAIR`),
    however its characters were read, unless one side was itself repaired (``repaired``: its
    text did not read as it stood): a repaired value never confirms another."""
    for excl_key, incl_key in form.tax_pairs:
        excl, incl = result.get(excl_key), result.get(incl_key)
        if excl is None or incl is None or "ocr" not in (excl.source, incl.source):
            continue
        a, b = excl.value, incl.value
        if not isinstance(a, int) or not isinstance(b, int):
            continue
        if excl.bbox is not None and excl.bbox == incl.bbox:
            # both read from one place: one of them stands in for a value not found
            for key, field in ((excl_key, excl), (incl_key, incl)):
                result[key] = field.model_copy(update={"confidence": min(field.confidence, 0.5), "review": True})
            continue
        if b in _with_tax(a):
            if excl_key in repaired or incl_key in repaired:
                continue
            # two amounts that agree confirm each other's digits: a misread of either would
            # not keep them a tax apart
            for key, field in ((excl_key, excl), (incl_key, incl)):
                if field.source == "ocr" and field.confidence < CONFIRMED_PAIR:
                    result[key] = field.model_copy(update={"confidence": CONFIRMED_PAIR, "review": False})
            continue
        fix_incl = {v for v in _one_digit_off(b) if v in _with_tax(a)}
        fix_excl = {v for v in _one_digit_off(a) if b in _with_tax(v)}
        if len(fix_incl) == 1 and not fix_excl:
            key, field, value = incl_key, incl, fix_incl.pop()
        elif len(fix_excl) == 1 and not fix_incl:
            key, field, value = excl_key, excl, fix_excl.pop()
        else:
            # a pair that disagrees: one of them is wrong, and which is for a person to see
            for key, field in ((excl_key, excl), (incl_key, incl)):
                result[key] = field.model_copy(update={"confidence": min(field.confidence, 0.6), "review": True})
            continue
        result[key] = field.model_copy(update={"value": value, "confidence": min(field.confidence, 0.6), "review": True})




def _host(url: str) -> str:
    host = re.sub(r"^[a-z]+://", "", url.strip(), flags=re.IGNORECASE).split("/", 1)[0].lower()
    return host.removeprefix("www.")


def repair_mail_domain(form: FormDecl, result: dict[str, ExtractedField]) -> None:
    """An e-mail address and a website read from a scan whose domains differ by one character
    (sales@akadgi-farm.co.jp, https://akagi-farm.co.jp/) share one domain, marked for review:
    the one with a letter doubled where the other has it once (a recognizer that reads by
    CTC merges a double letter, foods → fods, and does not invent one), else the clearly more
    confident reading. Two readings as sure as each other are both marked, neither changed."""
    emails = [f.key for f in form.fields() if f.type == "email" and f.key in result]
    urls = [f.key for f in form.fields() if f.type == "url" and f.key in result]
    if len(emails) != 1 or len(urls) != 1:
        return
    mail, site = result[emails[0]], result[urls[0]]
    if "ocr" not in (mail.source, site.source) or not isinstance(mail.value, str) or not isinstance(site.value, str):
        return
    local, at, mail_host = mail.value.rpartition("@")
    site_host = _host(site.value)
    if not at or not site_host or Levenshtein.distance(mail_host.lower(), site_host) != 1:
        return
    doubled = _doubled_letter(mail_host.lower(), site_host)
    if doubled is None and abs(mail.confidence - site.confidence) < DOMAIN_CONFIDENCE_MARGIN:
        for key, f in ((emails[0], mail), (urls[0], site)):
            result[key] = f.model_copy(update={"confidence": min(f.confidence, 0.6), "review": True})
        return
    if doubled == site_host or (doubled is None and mail.confidence < site.confidence):
        value = f"{local}@{site_host}"
        result[emails[0]] = mail.model_copy(update={"value": value, "confidence": min(mail.confidence, 0.6), "review": True})
    else:
        value = site.value.replace(site_host, mail_host.lower(), 1)
        result[urls[0]] = site.model_copy(update={"value": value, "confidence": min(site.confidence, 0.6), "review": True})


#: How much surer one of two disagreeing domains must be read to be taken over the other.
DOMAIN_CONFIDENCE_MARGIN = 0.05


def _doubled_letter(a: str, b: str) -> str | None:
    """Of two strings one character apart, the one that holds a doubled character where the
    other holds it once (foods beside fods), if that is the difference."""
    for longer, shorter in ((a, b), (b, a)):
        if len(longer) == len(shorter) + 1:
            for i in range(1, len(longer)):
                if longer[i] == longer[i - 1] and longer[:i] + longer[i + 1 :] == shorter:
                    return longer
    return None


def _dot_before_jp(m: re.Match[str]) -> str:
    return m.group(1) + (".co" if m.group(2) else "") + ".jp"


def repair_domain(text: str) -> str:
    """The end of an address read from a scan set right: ``shop@example.co.jd`` → ``.co.jp``,
    ``foodsJjp`` → ``foods.jp``; an @ read twice (@6, @@) once; ``https:/`` → ``https://``."""
    out = text.strip()
    # a speck read as a colon in a host name: before its dot (ikaho-bussan:.jp) or for it
    # (teuchi.co:jp); a scheme's colon is followed by /, a port's by digits
    scheme = re.match(r"^[a-z]{2,5}\s*[:;]", out, flags=re.IGNORECASE)
    head, host = (out[: scheme.end()], out[scheme.end() :]) if scheme else ("", out)
    host = re.sub(r"(?<=[a-z0-9-]):(?=\.)", "", host, flags=re.IGNORECASE)
    out = head + re.sub(r"(?<=[a-z0-9-]):(?=[a-z])", ".", host, flags=re.IGNORECASE)
    # and as a full stop after an address's end (…jp/.)
    out = re.sub(r"(?<=/)\s*[.,]$", "", out)
    # jp with a letter doubled or misread: .jd, .jo, .jjp, .jjdp, .jpp
    out = re.sub(r"\.co\.?j[jdop]{1,3}(?=/?$|/)", ".co.jp", out, flags=re.IGNORECASE)
    out = re.sub(r"(?<=[a-z0-9-])\s*(?:J|[.,])\s*j[jpdo]{1,3}(?=/?$|/)", ".jp", out, flags=re.IGNORECASE)
    out = re.sub(r"(?<=[a-z0-9-])J[pP](?=/?$|/)", ".jp", out)
    # a host with no dot at all lost the one before its jp: komochi-hamjp
    out = re.sub(r"(?:(?<=@)|(?<=//))([a-z0-9-]{2,}?)(\.?co)?jp(?=/?$|/)", _dot_before_jp, out)
    out = re.sub(r"@[6⑥@](?=[a-z])", "@", out)
    # the scheme's h read as n or lost (nttps:, ttps:), a speck between its slashes (:/./)
    out = re.sub(r"^[nb]?t{1,2}p(s?)(?=\s*[:;]\s*/)", r"http\1", out, flags=re.IGNORECASE)
    out = re.sub(r"(?<=:)/\s*[.,`']\s*/", "//", out)
    # a slash of the scheme lost or read as l, I or |: https:/example.jp, https:l/example.jp
    out = re.sub(r"^(https?)\s*[:;]?\s*[/lI|]{1,2}(?=[a-z0-9])", r"\1://", out, flags=re.IGNORECASE)
    return out


#: How alike (extract.lexicon.glyph_similarity) two neighbouring katakana must look to be one
#: glyph Tesseract wrote twice (ゾヅ 0.77, シン 0.72; ジョ 0.21).
KANA_TWIN_LIKENESS = 0.6


def _katakana_reading(name: str) -> str | None:
    """How ``name`` reads, in katakana, when the dictionary read all of it: a reading with
    digits or kanji left in it (焼きドーナツ 12個 → ヤキドーナツ12コ, 吟釀 → ギン釀) is no
    measure of a フリガナ (ジュウニコ lost its ニ to come nearer 12コ)."""
    said = "".join(lexicon.reading(name).split())
    return said if said and all("ァ" <= ch <= "ヺ" or ch == "ー" for ch in said) else None


def _fold_kana(text: str) -> str:
    """Katakana without voicing marks and small forms: how a reading compares to another."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return bare.translate(TO_LARGE)


def _undouble_kana(kana: str, name: str) -> str:
    """``kana`` without the one character that is a look-alike twin of its neighbour, when
    dropping it brings the reading nearer to how ``name`` reads (ミソゾヅケ → ミソヅケ)."""
    try:
        said = _katakana_reading(name)
        if said is None:
            return kana
        target = _fold_kana(said)
        # nearest without voicing marks, then with them (ミソヅケ before ミゾヅケ)
        options: dict[str, tuple[int, int]] = {}
        for i, ch in enumerate(kana):
            beside = {kana[j] for j in (i - 1, i + 1) if 0 <= j < len(kana)} - {ch}
            if any(lexicon.glyph_similarity(ch, other) >= KANA_TWIN_LIKENESS for other in beside):
                shorter = kana[:i] + kana[i + 1 :]
                options[shorter] = (Levenshtein.distance(_fold_kana(shorter), target), Levenshtein.distance(shorter, said))
    except (ImportError, OSError):  # no dictionary or no fonts: left as read
        return kana
    if not options:
        return kana
    best = min(options.values())
    winners = [k for k, d in options.items() if d == best]
    return winners[0] if len(winners) == 1 and best[0] < Levenshtein.distance(_fold_kana(kana), target) else kana


def _voicings(ch: str) -> tuple[str, ...]:
    """The kana of ``ch``'s voicing family that a scan may have turned into ``ch``: one with
    the other mark (ブ read as プ) or one whose mark was lost (ヅ read as ツ). Never one
    without the mark ``ch`` has: readers do not invent marks, and a dictionary's reading
    often lacks the voicing a compound takes (三本 サンボン, read ホン alone)."""
    decomposed = unicodedata.normalize("NFD", ch)
    base, mark = decomposed[0], decomposed[1:]
    marks = ("\u3099", "\u309a")
    family = [unicodedata.normalize("NFC", base + m) for m in marks if m != mark]
    return tuple(k for k in family if len(k) == 1 and ("ぁ" <= k <= "ゖ" or "ァ" <= k <= "ヺ"))


def _revoice_kana(kana: str, name: str) -> str:
    """``kana`` with the voicing marks that ``name`` reads otherwise put right, one at a time
    where the change brings the reading nearer to how ``name`` reads (ジョウシュウプタ → ブタ
    beside 上州豚, テツクリ → テヅクリ beside 手作り)."""
    if not any(_voicings(ch) for ch in kana):
        return kana
    try:
        said = _katakana_reading(name)
    except (ImportError, OSError):  # no dictionary: left as read
        return kana
    if said is None:
        return kana
    out = kana
    for i, ch in enumerate(kana):
        for other in _voicings(ch):
            swapped = out[:i] + other + out[i + 1 :]
            if Levenshtein.distance(swapped, said) < Levenshtein.distance(out, said):
                out = swapped
                break
    return out


def _resmall_kana(kana: str, name: str) -> str:
    """``kana`` with the small kana that its known words (``kana_words.yaml``) and how ``name``
    reads write small, where the recognizer read them large (コンニヤク beside 蒟蒻, セツト).
    A swap is kept, one at a time, where it brings the reading nearer to how ``name`` reads."""
    out = restore_small_kana_words(kana, katakana=True)
    if not any(ch.translate(TO_SMALL) != ch for ch in out):
        return out
    try:
        said = _katakana_reading(name)
    except (ImportError, OSError):  # no dictionary: the known words only
        return out
    if said is None:
        return out
    for i, ch in enumerate(out):
        small = ch.translate(TO_SMALL)
        if small != ch:
            swapped = out[:i] + small + out[i + 1 :]
            if Levenshtein.distance(swapped, said) < Levenshtein.distance(out, said):
                out = swapped
    return out


def repair_kana_reading(form: FormDecl, result: dict[str, ExtractedField]) -> None:
    """A scanned katakana reading (``X_kana``) with a glyph read twice, a voicing mark read as
    the other or a small kana read large, set right against how its field ``X`` reads, for
    review (ジョウシュウブタノミソゾヅケ, ジョウシュウプタノミソヅケ beside 上州豚の味噌漬け)."""
    for f in form.fields():
        if f.type != "katakana" or not f.key.endswith("_kana"):
            continue
        kana, name = result.get(f.key), result.get(f.key.removesuffix("_kana"))
        if kana is None or name is None or kana.source != "ocr" or not isinstance(kana.value, str) or not isinstance(name.value, str):
            continue
        fixed = _resmall_kana(_revoice_kana(_undouble_kana(kana.value, name.value), name.value), name.value)
        if fixed != kana.value:
            result[f.key] = kana.model_copy(update={"value": fixed, "confidence": min(kana.confidence, 0.6), "review": True})
