"""Scanned samples with their ground truth: filled 様式第1号 and certificates, as from a scanner.

For 様式第1号 (shibukawa.form1): random but plausible records are typed into our blank DOCX
(``generate.fill.fill_docx``), printed to PDF by LibreOffice, rendered by pdftoppm at 300 or
200 dpi, and degraded like a scan: skew up to ±2°, blur, paper tone and ink level, sensor noise,
speckle, JPEG. Boxes are ticked either as printed ☑ glyphs (ticked in Word) or by pen: the DOCX
is printed with empty ☐ and a hand-drawn tick, cross, fill or circle around the label is drawn
on the image where the box landed (found in the PDF with ``generate.blank_forms.locate_widgets``).

Tax certificates (納税証明書 and kin) and certificates of origin (原産地証明書 and kin) come in
three layouts each, from different "issuers", built here as simple DOCX.

Each sample is written as FILE (TIFF, PNG, JPEG or an image-only PDF) beside FILE.json:
``{"form": ..., "fields": {...}, "variant": {...}}``, the ground truth (never the extractor's
output); ``manifest.json`` lists them. Deterministic for a seed.

Run: .venv/bin/python samples/scans/generate.py [--out DIR] [--forms N] [--certs N] [--seed S]
     [--layout ours|city] [--content base|holdout]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageFilter

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from extract.pdftoppm import render_pages  # noqa: E402
from forms.catalogue import get_form  # noqa: E402
from forms.schema import FormDecl  # noqa: E402
from generate.libreoffice import convert_to_pdf  # noqa: E402

HERE = Path(__file__).parent
DEFAULT_OUT = HERE / "build"

# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Content:
    """What the samples are filled with. ``base`` is what the readers were tuned on; ``holdout``
    (other places, companies, people, products and issuers) is kept to measure them on text
    they have not seen: tune nothing on it, or it stops being a holdout."""

    addresses: tuple[str, ...]
    companies: tuple[str, ...]
    representatives: tuple[str, ...]
    #: (katakana name, name, size, description)
    products: tuple[tuple[str, str, str, str], ...]
    people: tuple[str, ...]
    departments: tuple[str, ...]
    places: tuple[str, ...]
    domains: tuple[str, ...]
    mailboxes: tuple[str, ...]
    shipping: tuple[str, ...]
    best_before: tuple[str, ...]
    packages: tuple[str, ...]
    subscriptions: tuple[str, ...]
    #: (mayor's title, name) of cities issuing tax certificates; tax offices issue without a name
    cities: tuple[tuple[str, str], ...]
    tax_offices: tuple[str, ...]
    tax_kinds: tuple[str, ...]
    origin_issuers: tuple[str, ...]
    origins: tuple[str, ...]
    materials: tuple[str, ...]


BASE = Content(
    addresses=(
        "群馬県渋川市石原80番地",
        "群馬県渋川市渋川1900番地1",
        "群馬県渋川市伊香保町伊香保541番地",
        "群馬県渋川市赤城町敷島1234番地",
        "群馬県渋川市子持5678番地2",
        "群馬県渋川市小野上3210番地",
    ),
    companies=(
        "株式会社渋川フーズ",
        "有限会社赤城ファーム",
        "伊香保物産合同会社",
        "渋川こんにゃく本舗株式会社",
        "子持高原ハム株式会社",
        "小野上温泉食品有限会社",
    ),
    representatives=("代表取締役 渋川太郎", "代表社員 伊香保花子", "取締役社長 赤城一郎", "代表取締役 子持次郎"),
    products=(
        ("ジョウシュウワギュウスキヤキセット", "上州和牛すき焼きセット", "肩ロース500g(化粧箱入り)",
         "渋川市内の牧場で育てた上州和牛の肩ロースを、市内の工場で手切りしました。"),
        ("コンニャクツメアワセ", "こんにゃく詰め合わせ", "板こんにゃく3枚・玉こんにゃく500g",
         "赤城山麓で育てたこんにゃく芋を使い、昔ながらの製法で仕上げました。"),
        ("イカホマンジュウ", "伊香保まんじゅう", "12個入り×2箱",
         "伊香保温泉の名物、黒糖の皮でこしあんを包んだ茶色いまんじゅうです。"),
        ("アカギコウゲンハムセット", "赤城高原ハムセット", "ロースハム400g・ベーコン300g",
         "赤城高原で育った豚肉を使い、桜のチップでじっくり燻製しました。"),
        ("シブカワリンゴジュース", "渋川りんごジュース", "1L×6本",
         "市内の果樹園で収穫したりんごだけを搾った果汁100%のジュースです。"),
        ("ジョウシュウブタノミソヅケ", "上州豚の味噌漬け", "ロース100g×8枚",
         "地元の味噌蔵の味噌に上州豚を漬け込みました。焼くだけで食べられます。"),
    ),
    people=("山田花子", "佐藤次郎", "鈴木一郎", "高橋美咲", "田中健太"),
    departments=("営業部", "総務課", "製造部", "販売課"),
    places=("群馬県前橋市", "群馬県高崎市", "群馬県沼田市", "長野県上田市", "栃木県宇都宮市"),
    domains=("shibukawa-foods.jp", "akagi-farm.co.jp", "ikaho-bussan.jp", "komochi-ham.jp"),
    mailboxes=("info", "sales", "shop"),
    shipping=("申込み後2週間以内", "毎月10日・25日に発送", "入金確認後1週間以内"),
    best_before=("製造日から60日", "冷凍で製造日から90日", "製造日から7日", "常温で180日"),
    packages=("60サイズ・1.2kg", "80サイズ・3kg", "60サイズ・800g"),
    subscriptions=("なし", "年3回", "年6回"),
    cities=(("渋川市長", "髙木 勉"), ("前橋市長", "小川 晶"), ("高崎市長", "富岡 賢治"), ("沼田市長", "星野 已喜雄")),
    tax_offices=("渋川税務署長", "前橋税務署長", "高崎税務署長"),
    tax_kinds=("市県民税", "法人市民税", "固定資産税", "軽自動車税", "市税全税目"),
    origin_issuers=("赤城たちばな農業協同組合", "渋川市こんにゃく生産組合", "子持高原牧場株式会社", "北群渋川農業協同組合"),
    origins=("群馬県渋川市", "群馬県渋川市赤城町", "群馬県渋川市子持", "群馬県渋川市伊香保町"),
    materials=("こんにゃく芋", "上州和牛", "りんご", "大豆", "小麦", "豚肉"),
)

HOLDOUT = Content(
    addresses=(
        "群馬県渋川市北橘町真壁2105番地",
        "群馬県渋川市金井437番地3",
        "群馬県渋川市白井1580番地",
        "群馬県渋川市有馬2236番地1",
        "群馬県渋川市行幸田615番地",
        "群馬県渋川市赤城町北赤城山902番地",
        "群馬県渋川市中郷3047番地",
        "群馬県渋川市吹屋58番地2",
    ),
    companies=(
        "株式会社北橘ファーム",
        "合同会社白井醸造",
        "有限会社子持山養蜂園",
        "金井精肉店株式会社",
        "株式会社やまびこ乳業",
        "農事組合法人こもち",
        "有限会社吹屋梅園",
        "行幸田製麺株式会社",
    ),
    representatives=("代表取締役 北橘正樹", "代表社員 白井由紀", "代表理事 金井誠", "代表取締役社長 有馬健一",
                     "取締役 中郷美和"),
    products=(
        ("キセツノヤサイツメアワセ", "季節の野菜詰め合わせ", "7品目・約3kg",
         "北橘町の畑で朝に収穫した旬の野菜を、その日のうちに箱詰めしてお届けします。"),
        ("ブルーベリージャム", "ブルーベリージャム", "140g×3瓶",
         "赤城の農園で育てたブルーベリーを砂糖だけで煮詰めた、果実たっぷりのジャムです。"),
        ("ジョウシュウウドン", "上州うどん", "乾麺200g×10袋",
         "群馬県産の小麦を石臼で挽き、コシの強い麺に仕上げた乾麺です。"),
        ("ヤキマンジュウ", "焼きまんじゅう", "4串入り×3袋",
         "甘辛い味噌だれを塗って香ばしく焼き上げた、群馬の郷土の味です。"),
        ("シブカワサンコシヒカリ", "渋川産コシヒカリ", "精米5kg×2袋",
         "子持山の清らかな水で育てた、粘りと甘みのあるお米です。"),
        ("アカシアハチミツ", "アカシアはちみつ", "300g×2本",
         "市内の養蜂場で採れた純粋なはちみつを、加熱せずに瓶詰めしました。"),
        ("ノムヨーグルトセット", "のむヨーグルトセット", "900ml×4本",
         "地元の牧場で搾った生乳を使い、なめらかに仕上げた飲むヨーグルトです。"),
        ("ゲンボクシイタケ", "原木しいたけ", "乾燥80g×3袋",
         "くぬぎの原木で一年以上かけて育て、天日で干した肉厚のしいたけです。"),
        ("テヅクリソーセージセット", "手づくりソーセージセット", "5種・計1kg",
         "上州豚の肩肉に香辛料を合わせ、職人が一本ずつ手づくりしています。"),
        ("ハチミツウメボシ", "はちみつ梅干し", "500g×2パック",
         "完熟した梅を塩で漬けて天日に干し、はちみつで味を調えました。"),
        ("テヅクリミソ", "手づくり味噌", "1kg×2袋",
         "国産の大豆と米こうじを使い、一年かけてじっくり熟成させた味噌です。"),
        ("ヤマメノカンロニ", "やまめの甘露煮", "5尾×2パック",
         "清流で育てたやまめを骨までやわらかく煮込んだ、ご飯に合う一品です。"),
    ),
    people=("小林直樹", "渡辺由美", "伊藤翔太", "中村真理子", "加藤大輔", "吉田恵子"),
    departments=("商品企画部", "経理課", "直売所", "業務部"),
    places=("群馬県みどり市", "群馬県吾妻郡中之条町", "埼玉県本庄市", "栃木県足利市", "新潟県南魚沼市"),
    domains=("hokkitsu-farm.jp", "shiroi-jozo.co.jp", "komochi-honey.jp", "yamabiko-milk.jp"),
    mailboxes=("order", "contact", "gift"),
    shipping=("注文後10日以内に発送", "毎週火曜日に発送", "7月下旬から8月中旬に発送"),
    best_before=("冷蔵で製造日から14日", "製造日から1年", "発送日から5日", "常温で2年"),
    packages=("100サイズ・5kg", "60サイズ・2kg", "80サイズ・2.5kg"),
    subscriptions=("年4回", "年12回", "なし"),
    cities=(("みどり市長", "森田 雅之"), ("桐生市長", "齋藤 修一"), ("伊勢崎市長", "柴﨑 徳三郎"), ("吉岡町長", "青木 洋平")),
    tax_offices=("沼田税務署長", "桐生税務署長", "伊勢崎税務署長"),
    tax_kinds=("国民健康保険税", "都市計画税", "市民税・県民税", "個人住民税", "入湯税"),
    origin_issuers=("北橘野菜生産組合", "子持山養蜂組合", "株式会社やまびこ乳業", "吾妻郡農業協同組合"),
    origins=("群馬県渋川市北橘町", "群馬県渋川市小野上", "群馬県吾妻郡中之条町", "群馬県みどり市"),
    materials=("はちみつ", "ブルーベリー", "生乳", "しいたけ", "梅", "米"),
)

CONTENT = {"base": BASE, "holdout": HOLDOUT}

ALLERGENS = ["卵", "乳", "小麦", "そば", "落花生", "えび", "かに", "さけ", "さば", "あわび", "いか",
             "いくら", "牛肉", "豚肉", "鶏肉", "ゼラチン", "アーモンド", "カシューナッツ", "くるみ",
             "大豆", "ごま", "マカダミアナッツ", "やまいも", "オレンジ", "キウイ", "バナナ", "もも", "りんご"]


def _date(rng: random.Random) -> str:
    return (date(2025, 5, 1) + timedelta(days=rng.randrange(0, 600))).isoformat()


def form1_record(rng: random.Random, content: Content = BASE) -> dict[str, Any]:
    c = content
    kana, name, spec, description = rng.choice(c.products)
    donation = rng.randrange(10, 51) * 1000
    excl = int(donation * rng.uniform(0.22, 0.29)) // 10 * 10
    incl = int(excl * 1.08)
    retail_excl = excl + rng.randrange(2, 20) * 100
    domain = rng.choice(c.domains)
    allergens = sorted(rng.sample(ALLERGENS, rng.choice([0, 1, 2, 3, 4, 6])), key=ALLERGENS.index)
    fields: dict[str, Any] = {
        "application_date": _date(rng),
        "applicant_postal_code": f"377-{rng.randrange(0, 10000):04d}",
        "applicant_address": rng.choice(c.addresses),
        "applicant_name": rng.choice(c.companies),
        "applicant_representative": rng.choice(c.representatives),
        "product_name_kana": kana,
        "product_name": name,
        "product_spec": spec,
        "product_description": description,
        "donation_amount": donation,
        "gift_price_excl_tax": excl,
        "gift_price_incl_tax": incl,
        "retail_price_excl_tax": retail_excl,
        "retail_price_incl_tax": int(retail_excl * 1.08),
        "ingredients_origin": rng.choice(["in_city", "outside"]),
        "manufacturing_place": rng.choice(["in_city", "outside"]),
        "supply_period": rng.choice(["year_round", "limited"]),
        "acceptance_period": rng.choice(["year_round", "limited"]),
        "supply_quantity": f"年間{rng.randrange(1, 20) * 50}個",
        "shipping_timing": rng.choice(c.shipping),
        "carriers": sorted(rng.sample(["japan_post", "sagawa", "yamato"], rng.randrange(1, 4)),
                           key=["japan_post", "sagawa", "yamato"].index),
        "temperature": rng.choice(["ambient", "chilled", "frozen"]),
        "allergens_present": bool(allergens),
        "allergens": allergens,
        "best_before": rng.choice(c.best_before),
        "package_size_weight": rng.choice(c.packages),
        "subscription": rng.choice(c.subscriptions),
        "contact_department": rng.choice(c.departments),
        "contact_person": rng.choice(c.people),
        "contact_phone": f"0279-{rng.randrange(20, 60)}-{rng.randrange(0, 10000):04d}",
        "contact_fax": f"0279-{rng.randrange(20, 60)}-{rng.randrange(0, 10000):04d}",
        "contact_email": f"{rng.choice(c.mailboxes)}@{domain}",
        "contact_website_url": f"https://{domain}/",
    }
    if fields["ingredients_origin"] == "outside":
        fields["ingredients_origin_detail"] = rng.choice(c.places)
    if fields["manufacturing_place"] == "outside":
        fields["manufacturing_place_detail"] = rng.choice(c.places)
    return {"form": "shibukawa.form1", "fields": fields}


# --- certificates --------------------------------------------------------------------------


def _wareki(iso: str) -> str:
    d = date.fromisoformat(iso)
    year = d.year - 2018
    return f"令和{'元' if year == 1 else year}年{d.month}月{d.day}日"


def tax_record(rng: random.Random, layout: int, content: Content = BASE) -> dict[str, Any]:
    c = content
    arrears = rng.random() < 0.25
    unpaid = rng.randrange(1, 80) * 1000 if arrears else 0
    if layout == 2:
        mayor, issuer_name = rng.choice(c.tax_offices), ""
    else:
        mayor, issuer_name = rng.choice(c.cities)
    fields = {
        "certificate_number": f"第{rng.randrange(100, 9999)}号",
        "taxpayer_address": rng.choice(c.addresses),
        "taxpayer_name": rng.choice(c.companies),
        "tax_kind": rng.choice(c.tax_kinds),
        "issue_date": _date(rng),
        # the office is the issuer (DESIGN 4.3); the signature line also prints the name
        "issuer": mayor,
        "no_arrears": not arrears,
        "unpaid_amount": unpaid,
    }
    return {"form": "tax_certificate", "fields": fields, "layout": layout, "signature": f"{mayor} {issuer_name}".strip()}


def origin_record(rng: random.Random, layout: int, content: Content = BASE) -> dict[str, Any]:
    c = content
    fields = {
        "product_name": rng.choice(c.materials),
        "origin": rng.choice(c.origins),
        "issuer": rng.choice(c.origin_issuers),
        "issue_date": _date(rng),
    }
    return {"form": "origin_certificate", "fields": fields, "layout": layout}


def _doc(font: str):  # type: ignore[no-untyped-def]
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(25)
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    style.font.name = font
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), font)
    return doc


def _para(doc, text: str, *, size: float | None = None, bold: bool = False, align: str = "left", space: float = 6):  # type: ignore[no-untyped-def]
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    p = doc.add_paragraph()
    p.alignment = {"left": WD_ALIGN_PARAGRAPH.LEFT, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    p.paragraph_format.space_after = Pt(space)
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    return p


def _table(doc, rows: list[list[str]], widths_mm: list[float]):  # type: ignore[no-untyped-def]
    from docx.shared import Mm

    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, cells in enumerate(rows):
        for c, text in enumerate(cells):
            cell = table.cell(r, c)
            cell.width = Mm(widths_mm[c])
            cell.text = text
    return table


def tax_docx(record: dict[str, Any]) -> bytes:
    f = record["fields"]
    layout = record["layout"]
    when = _wareki(f["issue_date"])
    unpaid = f["unpaid_amount"]
    if layout == 0:  # a city's 納税証明書: a table, then the statement
        doc = _doc("ＭＳ 明朝")
        _para(doc, f"証明書番号　{f['certificate_number']}", align="right")
        _para(doc, "納税証明書", size=18, bold=True, align="center", space=18)
        _table(doc, [
            ["住所", f["taxpayer_address"]],
            ["氏名", f["taxpayer_name"]],
            ["税目", f["tax_kind"]],
            ["未納税額", f"{unpaid:,}円"],
        ], [35, 125])
        _para(doc, "")
        statement = "上記のとおり滞納はありませんので証明します。" if f["no_arrears"] else "上記のとおり未納の税額があることを証明します。"
        _para(doc, statement, space=18)
        _para(doc, when, align="left")
        _para(doc, record.get("signature", f["issuer"]), align="right", size=12)
    elif layout == 1:  # 市税完納証明書: lines with labels, statement before the date
        doc = _doc("ＭＳ ゴシック")
        _para(doc, "市税完納証明書", size=16, bold=True, align="center", space=24)
        _para(doc, f"証明番号：{f['certificate_number']}", align="right", space=12)
        _para(doc, f"住所又は所在地：{f['taxpayer_address']}")
        _para(doc, f"氏名又は名称：{f['taxpayer_name']}")
        _para(doc, f"証明する税目：{f['tax_kind']}", space=18)
        if f["no_arrears"]:
            _para(doc, "上記の者について、令和7年度までの市税に未納の税額はありません。", space=6)
        else:
            _para(doc, f"上記の者について、未納の税額があります。未納額：{unpaid:,}円", space=6)
        _para(doc, "上記のとおり証明します。", space=18)
        _para(doc, when, align="left")
        _para(doc, record.get("signature", f["issuer"]), align="right", size=12)
    else:  # a tax office's 納税証明書（その3）: a header table with columns
        doc = _doc("ＭＳ 明朝")
        _para(doc, "納税証明書（その３）", size=16, bold=True, align="center", space=18)
        _para(doc, f"交付番号　{f['certificate_number']}", align="left")
        _table(doc, [
            ["住所（所在地）", f["taxpayer_address"]],
            ["氏名（名称）", f["taxpayer_name"]],
        ], [40, 120])
        _para(doc, "")
        _table(doc, [
            ["税目", "未納税額", "備考"],
            [f["tax_kind"], f"{unpaid:,}円" if unpaid else "0円", ""],
        ], [50, 50, 60])
        _para(doc, "")
        _para(doc, "滞納なし" if f["no_arrears"] else "滞納あり", space=12)
        _para(doc, "上記のとおり相違ないことを証明します。", space=12)
        _para(doc, when)
        _para(doc, record.get("signature", f["issuer"]), align="right", size=12)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def origin_docx(record: dict[str, Any]) -> bytes:
    f = record["fields"]
    layout = record["layout"]
    when = _wareki(f["issue_date"])
    if layout == 0:
        doc = _doc("ＭＳ 明朝")
        _para(doc, "原産地証明書", size=18, bold=True, align="center", space=24)
        _table(doc, [["品名", f["product_name"]], ["原産地", f["origin"]], ["証明者", f["issuer"]]], [35, 125])
        _para(doc, "")
        _para(doc, "上記のとおり相違ないことを証明します。", space=12)
        _para(doc, when)
    elif layout == 1:
        doc = _doc("ＭＳ ゴシック")
        _para(doc, "産地証明書", size=16, bold=True, align="center", space=24)
        _para(doc, f"品目：{f['product_name']}")
        _para(doc, f"生産地：{f['origin']}", space=18)
        _para(doc, "上記の品目は、上記の生産地で生産されたものであることを証明します。", space=18)
        _para(doc, f"発行日：{when}")
        _para(doc, f"発行者：{f['issuer']}", align="right")
    else:
        doc = _doc("ＭＳ 明朝")
        _para(doc, f"{when}", align="right", space=12)
        _para(doc, "原料原産地証明書", size=16, bold=True, align="center", space=18)
        _table(doc, [["原料名", "原産地", "使用割合"], [f["product_name"], f["origin"], "100%"]], [50, 70, 40])
        _para(doc, "")
        _para(doc, "上記のとおり証明します。", space=12)
        _para(doc, f"証明者　{f['issuer']}", align="right")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --- pen marks -------------------------------------------------------------------------------


def _pen(rng: random.Random, dpi: float) -> tuple[int, int]:
    """Pen stroke width (px) and ink level."""
    return max(2, round(dpi * rng.uniform(0.35, 0.6) / 25.4)), rng.randrange(20, 90)


def draw_mark(arr: np.ndarray, box: tuple[float, float, float, float], kind: str, rng: random.Random, dpi: float) -> None:
    """A hand-drawn tick (✓ that may cross the border), cross, or filled box in a box (px)."""
    x0, y0, x1, y1 = box
    s = x1 - x0
    width, ink = _pen(rng, dpi)

    def j(v: float) -> float:
        return v + rng.uniform(-0.08, 0.08) * s

    if kind == "tick":
        reach = rng.uniform(0.0, 0.8)  # how far the long stroke leaves the box
        pts = [(j(x0 + 0.15 * s), j(y0 + 0.5 * s)), (j(x0 + 0.42 * s), j(y1 - 0.12 * s)),
               (j(x1 + reach * s * 0.6), j(y0 - reach * s * 0.8))]
        cv2.polylines(arr, [np.array(pts, np.int32)], False, ink, width, cv2.LINE_AA)
    elif kind == "cross":
        over = rng.uniform(-0.1, 0.25) * s
        cv2.line(arr, (int(j(x0 - over)), int(j(y0 - over))), (int(j(x1 + over)), int(j(y1 + over))), ink, width, cv2.LINE_AA)
        cv2.line(arr, (int(j(x1 + over)), int(j(y0 - over))), (int(j(x0 - over)), int(j(y1 + over))), ink, width, cv2.LINE_AA)
    else:  # filled in
        cv2.rectangle(arr, (int(x0 + 2), int(y0 + 2)), (int(x1 - 2), int(y1 - 2)), ink, -1)


def draw_circle(arr: np.ndarray, box: tuple[float, float, float, float], rng: random.Random, dpi: float) -> None:
    """A hand-drawn ellipse around a label (px box), not quite closed, slightly tilted."""
    x0, y0, x1, y1 = box
    h = y1 - y0
    cx, cy = (x0 + x1) / 2 + rng.uniform(-0.1, 0.1) * h, (y0 + y1) / 2
    ax, ay = (x1 - x0) / 2 + h * rng.uniform(0.35, 0.6), h / 2 + h * rng.uniform(0.25, 0.45)
    start = rng.uniform(0, 360)
    width, ink = _pen(rng, dpi)
    cv2.ellipse(arr, (int(cx), int(cy)), (int(ax), int(ay)), rng.uniform(-6, 6), start, start + rng.uniform(345, 375), ink, width, cv2.LINE_AA)


# --- scanner -------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    dpi: int
    skew: float = 0.0
    blur: float = 0.0
    noise: float = 2.0
    speckle: int = 0
    jpeg: int | None = None
    #: "glyph": boxes ticked in Word (☑); "pen": ticks drawn by hand; "circle": some options circled
    ticks: str = "glyph"
    fmt: str = "tiff"


def degrade(img: Image.Image, v: Variant, rng: random.Random) -> Image.Image:
    """Paper and ink tones, skew, blur, noise, speckle and JPEG, like a scanner."""
    arr = np.asarray(img.convert("L"), dtype=np.float32)
    paper, ink = rng.uniform(225, 250), rng.uniform(15, 55)
    arr = ink + (paper - ink) * arr / 255.0
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "L")
    if v.skew:
        out = out.rotate(v.skew, resample=Image.Resampling.BICUBIC, fillcolor=int(paper))
    if v.blur:
        out = out.filter(ImageFilter.GaussianBlur(v.blur))
    arr = np.asarray(out, dtype=np.float32)
    np_rng = np.random.default_rng(rng.randrange(1 << 30))
    if v.noise:
        arr = arr + np_rng.normal(0, v.noise, arr.shape)
    if v.speckle:
        h, w = arr.shape
        ys, xs = np_rng.integers(0, h - 2, v.speckle), np_rng.integers(0, w - 2, v.speckle)
        sizes = np_rng.integers(1, 3, v.speckle)
        for y, x, s in zip(ys, xs, sizes):
            arr[y : y + s, x : x + s] = np_rng.uniform(20, 110)
    out = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "L")
    if v.jpeg:
        buf = io.BytesIO()
        out.save(buf, format="JPEG", quality=v.jpeg)
        out = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    return out


def save_pages(pages: list[Image.Image], path: Path, v: Variant) -> Path:
    dpi = (v.dpi, v.dpi)
    if v.fmt == "pdf":
        path = path.with_suffix(".pdf")
        pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=float(v.dpi))
    elif v.fmt == "jpeg":
        path = path.with_suffix(".jpg")
        pages[0].save(path, "JPEG", quality=v.jpeg or 80, dpi=dpi)
    elif v.fmt == "png":
        path = path.with_suffix(".png")
        pages[0].save(path, "PNG", dpi=dpi, optimize=True)
    else:
        path = path.with_suffix(".tiff")
        pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], dpi=dpi, compression="tiff_lzw")
    return path


#: The font of a form retyped from the city's own Word file (``--layout city``): gothic, where
#: our blank prints mincho.
CITY_FONT = "IPAexGothic"
#: How much wider its label column is than ours; the value columns give the width back.
CITY_LABEL_WIDER = 1.25


def city_layout(docx: bytes, *, widths: bool = True) -> bytes:
    """Our filled 様式第1号 as if typed into the city's own Word file: another font (gothic),
    a wider label column and narrower value columns (so values wrap elsewhere; not with
    ``widths=False``), and the rows numbered （1） where ours print 1. The words, order and
    boxes stay: what a locator that goes by labels must survive."""
    import re

    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(io.BytesIO(docx))
    for root in (doc.element, doc.styles.element):
        for fonts in root.iter(qn("w:rFonts")):
            for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                fonts.set(qn(attr), CITY_FONT)
    for table in doc.tables if widths else []:
        tbl = table._tbl
        cols = tbl.tblGrid.findall(qn("w:gridCol"))
        widths = [int(c.get(qn("w:w"))) for c in cols]
        total = sum(widths)
        label = widths[0] + widths[1]
        wider = [round(w * CITY_LABEL_WIDER) for w in widths[:2]]
        rest = total - sum(wider)
        scale = rest / (total - label)
        new = wider + [max(1, round(w * scale)) for w in widths[2:]]
        new[-1] += total - sum(new)
        for col, w in zip(cols, new):
            col.set(qn("w:w"), str(w))
        for tr in tbl.findall(qn("w:tr")):
            at = 0
            for tc in tr.findall(qn("w:tc")):
                pr = tc.find(qn("w:tcPr"))
                span_el = pr.find(qn("w:gridSpan")) if pr is not None else None
                span = int(span_el.get(qn("w:val"))) if span_el is not None else 1
                tcw = pr.find(qn("w:tcW")) if pr is not None else None
                if tcw is not None:
                    tcw.set(qn("w:w"), str(sum(new[at : at + span])))
                    tcw.set(qn("w:type"), "dxa")
                at += span
    for table in doc.tables:
        for row in table.rows:
            first = row.cells[0]
            for para in first.paragraphs:
                if para.runs:
                    run = para.runs[0]
                    run.text = re.sub(r"^(\d{1,2})\s+", lambda m: f"（{m.group(1)}）", run.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def form1_variants(rng: random.Random, n: int) -> list[Variant]:
    out: list[Variant] = []
    for i in range(n):
        ticks = ["glyph", "pen", "pen", "circle"][i % 4]
        if i % 2 == 0:
            out.append(Variant(f"300dpi-{ticks}", 300, skew=rng.uniform(-0.5, 0.5), blur=rng.uniform(0, 0.5),
                               noise=2.0, ticks=ticks, fmt="tiff"))
        else:
            out.append(Variant(f"200dpi-noisy-{ticks}", 200, skew=rng.choice([-1, 1]) * rng.uniform(0.5, 2.0),
                               blur=rng.uniform(0.5, 0.9), noise=5.0, speckle=rng.randrange(300, 1200),
                               jpeg=rng.randrange(55, 80), ticks=ticks, fmt="pdf"))
    return out


# --- the run -------------------------------------------------------------------------------


def _checkbox_fields(form: FormDecl) -> set[str]:
    return {f.key for f in form.fields() if f.choices}


def _label_box(chars: list[dict], box: tuple[float, float, float, float], label: str, after: bool) -> tuple[float, float, float, float] | None:
    """PDF-point box (top-left origin) of a choice's label printed beside its box."""
    x0, top, x1, bottom = box
    cy = (top + bottom) / 2
    line = [c for c in chars if abs((float(c["top"]) + float(c["bottom"])) / 2 - cy) < 4 and c["text"].strip()]
    if after:  # label before the box (卵 ☐)
        before = sorted((c for c in line if float(c["x1"]) <= x0 + 0.5), key=lambda c: -float(c["x0"]))[: len(label)]
        picked = before
    else:
        picked = sorted((c for c in line if float(c["x0"]) >= x1 - 0.5), key=lambda c: float(c["x0"]))[: len(label)]
    if "".join(sorted(c["text"] for c in picked)) != "".join(sorted(label)):
        return None
    return (min(float(c["x0"]) for c in picked), min(float(c["top"]) for c in picked),
            max(float(c["x1"]) for c in picked), max(float(c["bottom"]) for c in picked))


def make_form1(
    out: Path, n: int, rng: random.Random, tmp: Path, *, variants: list[Variant] | None = None,
    pages_out: list[list[Image.Image]] | None = None, states_out: list[list[list[bool]]] | None = None,
    records_out: list[dict[str, Any]] | None = None, layout: str = "ours", content: Content = BASE,
) -> list[dict[str, Any]]:
    """Filled 様式第1号 scans. ``pages_out`` / ``states_out`` receive each sample's page images
    and, per page, the states of its boxes in reading order (top to bottom, left to right).
    ``layout``: ``ours`` (our blank) or ``city`` (:func:`city_layout`)."""
    import pdfplumber

    from generate.blank_forms import build_layout, locate_widgets
    from generate.fill import fill_docx, is_ticked

    form = get_form("shibukawa.form1")
    boxes_fields = _checkbox_fields(form)
    by_key = {f.key: f for f in form.fields()}
    variants = variants or form1_variants(rng, n)
    records = [form1_record(rng, content) for _ in range(n)]
    if records_out is not None:
        records_out.extend(records)
    docx_paths = []
    for i, (rec, v) in enumerate(zip(records, variants)):
        values = rec["fields"] if v.ticks == "glyph" else {k: x for k, x in rec["fields"].items() if k not in boxes_fields}
        path = tmp / f"form1_{i:03d}.docx"
        filled = fill_docx(form, values)
        # boxes ticked by pen are found in the PDF by our blank's cells: those keep our widths
        path.write_bytes(city_layout(filled, widths=v.ticks == "glyph") if layout == "city" else filled)
        docx_paths.append(path)
    pdfs = convert_to_pdf(docx_paths, tmp)
    samples = []
    for i, (rec, v, pdf) in enumerate(zip(records, variants, pdfs)):
        pdf_bytes = pdf.read_bytes()
        pages = render_pages(pdf_bytes, dpi=v.dpi)
        arrays = [np.asarray(p).copy() for p in pages]
        scale = v.dpi / 72.0
        # the boxes of a form printed with empty ☐ (ticked by pen afterwards) are found in its PDF
        widgets = [] if v.ticks == "glyph" else [
            w for w in locate_widgets(build_layout(form), pdf_bytes) if w.kind == "checkbox"
        ]
        if states_out is not None and widgets:
            states: list[list[bool]] = [[] for _ in pages]
            for w in sorted(widgets, key=lambda w: (w.page, -round(w.rect[3]), w.rect[0])):
                states[w.page].append(is_ticked(by_key[w.field.key], w.choice, rec["fields"].get(w.field.key)))
            states_out.append(states)
        if v.ticks != "glyph":
            with pdfplumber.open(io.BytesIO(pdf_bytes)) as doc:
                chars = [list(p.chars) for p in doc.pages]
                heights = [float(p.height) for p in doc.pages]
            circled = {"temperature", "supply_period"} if v.ticks == "circle" else set()
            for w in widgets:
                f = by_key[w.field.key]
                if not is_ticked(f, w.choice, rec["fields"].get(f.key)):
                    continue
                x0, y0, x1, y1 = w.rect
                top, bottom = heights[w.page] - y1, heights[w.page] - y0
                if f.key in circled and w.choice is not None:
                    label = _label_box(chars[w.page], (x0, top, x1, bottom), w.choice.label, f.box == "after")
                    if label:
                        draw_circle(arrays[w.page], tuple(c * scale for c in label), rng, v.dpi)  # type: ignore[arg-type]
                        continue
                kind = rng.choices(["tick", "cross", "fill"], [0.75, 0.18, 0.07])[0]
                draw_mark(arrays[w.page], (x0 * scale, top * scale, x1 * scale, bottom * scale), kind, rng, v.dpi)
        scanned = [degrade(Image.fromarray(a, "L"), v, rng) for a in arrays]
        if pages_out is not None:
            pages_out.append(scanned)
            continue
        path = save_pages(scanned, out / f"form1_{i:03d}_{v.name}", v)
        samples.append(_write_truth(path, rec, v, **({"layout": "city"} if layout == "city" else {})))
    return samples


def make_certificates(out: Path, n: int, rng: random.Random, tmp: Path, content: Content = BASE) -> list[dict[str, Any]]:
    records = []
    for i in range(n):
        records.append(tax_record(rng, i % 3, content))
        records.append(origin_record(rng, i % 3, content))
    docx_paths = []
    for i, rec in enumerate(records):
        stem = f"{'tax' if rec['form'] == 'tax_certificate' else 'origin'}_{i // 2:03d}_l{rec['layout']}"
        path = tmp / f"{stem}.docx"
        path.write_bytes(tax_docx(rec) if rec["form"] == "tax_certificate" else origin_docx(rec))
        docx_paths.append(path)
    pdfs = convert_to_pdf(docx_paths, tmp)
    samples = []
    for i, (rec, pdf) in enumerate(zip(records, pdfs)):
        if i % 4 < 2:
            v = Variant("300dpi", 300, skew=rng.uniform(-0.7, 0.7), blur=rng.uniform(0, 0.5), fmt="png")
        else:
            v = Variant("200dpi-noisy", 200, skew=rng.choice([-1, 1]) * rng.uniform(0.5, 2.0), blur=rng.uniform(0.5, 0.9),
                        noise=5.0, speckle=rng.randrange(200, 800), jpeg=rng.randrange(55, 80), fmt="jpeg")
        (page, *_) = render_pages(pdf.read_bytes(), [1], dpi=v.dpi)
        path = save_pages([degrade(page, v, rng)], out / f"{pdf.stem}_{v.name}", v)
        samples.append(_write_truth(path, {"form": rec["form"], "fields": rec["fields"]}, v, layout=rec["layout"]))
    return samples


def _write_truth(path: Path, record: dict[str, Any], v: Variant, **extra: Any) -> dict[str, Any]:
    truth = {"form": record["form"], "fields": record["fields"], "variant": asdict(v), **extra}
    Path(f"{path}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"file": path.name, **truth}


def make_committed(out: Path, tmp: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The few small scans kept in the repository for tests: one filled 様式第1号 ticked by pen,
    page 1 at 300 dpi (16 grey levels, PNG) and page 2 at 200 dpi with skew, blur, speckle and
    JPEG. Each comes with its truth: the record, the page, the states of its boxes in reading
    order (top to bottom, left to right).
    """
    rng = random.Random(20260401)
    pages: list[list[Image.Image]] = []
    states: list[list[list[bool]]] = []
    records: list[dict[str, Any]] = []
    make_form1(out, 1, rng, tmp, variants=[Variant("pen", 300, ticks="pen", fmt="png")],
               pages_out=pages, states_out=states, records_out=records)
    (page1, page2), (states1, states2), record = pages[0], states[0], records[0]
    # page 1: a clean 300 dpi scan, 16 grey levels
    path1 = out / "form1_pen_p1_300dpi.png"
    Image.fromarray(np.asarray(page1, dtype=np.uint8) // 17 * 17, "L").save(path1, "PNG", dpi=(300, 300), optimize=True)
    # page 2: a poor 200 dpi scan
    v2 = Variant("200dpi-noisy", 200, skew=1.3, blur=0.7, noise=3.0, speckle=400, jpeg=70, ticks="pen", fmt="jpeg")
    small = page2.resize((round(page2.width * 2 / 3), round(page2.height * 2 / 3)), Image.Resampling.BOX)
    path2 = save_pages([degrade(small, v2, rng)], out / "form1_pen_p2_200dpi", v2)
    return [
        (path1, {"form": record["form"], "fields": record["fields"], "page": 1, "boxes": states1}),
        (path2, {"form": record["form"], "fields": record["fields"], "page": 2, "boxes": states2}),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--forms", type=int, default=8, help="filled 様式第1号 scans")
    parser.add_argument("--certs", type=int, default=6, help="tax and origin certificates each")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--committed", action="store_true", help="remake the few samples kept in git")
    parser.add_argument("--layout", choices=["ours", "city"], default="ours",
                        help="様式第1号 as our blank prints it, or retyped in the city's own Word file (other font, widths, numbering)")
    parser.add_argument("--content", choices=sorted(CONTENT), default="base",
                        help="what the samples are filled with: base (what the readers were tuned on) or holdout (never tuned on)")
    args = parser.parse_args(argv)
    if args.committed:
        with tempfile.TemporaryDirectory(prefix="madoguchi-scans-") as tmp:
            for path, truth in make_committed(HERE, Path(tmp)):
                Path(f"{path}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                print(path.relative_to(ROOT), path.stat().st_size // 1024, "KB")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="madoguchi-scans-") as tmp:
        content = CONTENT[args.content]
        samples = make_form1(args.out, args.forms, rng, Path(tmp), layout=args.layout, content=content)
        samples += make_certificates(args.out, args.certs, rng, Path(tmp), content)
    (args.out / "manifest.json").write_text(json.dumps(samples, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for s in samples:
        print(s["file"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
