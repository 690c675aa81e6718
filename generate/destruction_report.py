"""The written notice of destruction (廃棄報告): what kinds of personal data were destroyed, how
many of each, on which day (和暦), under which clause. Counts only: it names no one.

Shika's 別紙② 3(5) and 7 require personal data destroyed within three months after the work
ends, copies included, and the destruction reported in writing (任意の様式). No Flask, no
database: the web layer hands in the counts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from generate.wareki import format_wareki

#: The kinds counted, in the order the report lists them, with their Japanese names.
KINDS: dict[str, str] = {
    "cases": "業務が終了した案件",
    "originals": "申請書類の原本（ファイル）",
    "page_images": "ページ画像",
    "cache_entries": "読取結果の一時保存",
    "fields": "読取項目（氏名・住所・連絡先等）",
    "corrections": "項目の修正履歴",
    "notice_files": "通知書のファイル",
    "mail_messages": "受信メール",
    "outgoing_mails": "送信メール",
    "suppliers": "事業者の登録情報",
    "memos": "案件のメモ",
}


@dataclass
class DestructionReport:
    municipality: str
    #: Addressee and sender as printed (志賀町長, the department).
    head_title: str
    department: str
    program_name: str
    destroyed_on: date
    counts: dict[str, int]
    #: The retention rule applied, in words (業務終了後3か月) and its clause (001 別紙② 3(5), 7).
    period: str = ""
    clause: str = ""
    doc_number: str = ""
    kept: list[str] = field(default_factory=lambda: [
        "決定の内容と日付", "文書番号", "通知書の種類と発行日", "操作の記録（件数と番号のみ）",
    ])

    def lines(self) -> list[str]:
        """The report's text, line by line (the PDF prints these)."""
        day = format_wareki(self.destroyed_on)
        basis = f"{self.program_name}（{self.clause}）" if self.clause else self.program_name
        out = [
            day,
            f"{self.head_title}　様",
            self.department,
            "",
            "個人情報等の廃棄について（報告）",
            "",
            f"{basis}の規定に基づき、保存期間"
            + (f"（{self.period}）" if self.period else "")
            + "を経過した個人情報等を、複製物を含め下記のとおり廃棄したので報告します。",
            "",
            "記",
            "",
            f"1　廃棄日　{day}",
            "2　廃棄したもの（件数）",
        ]
        for key, name in KINDS.items():
            if key in self.counts:
                out.append(f"　　{name}　{self.counts[key]:,} 件")
        out += [
            "3　廃棄の方法　電子データの消去（ファイルの削除、データベースからの削除及び領域の再編成）",
            "4　引き続き保存するもの（個人情報を含まない）",
            "　　" + "、".join(self.kept),
            "",
            "以上",
        ]
        return out


def render_pdf(report: DestructionReport) -> bytes:
    """The report as an A4 PDF in the Japanese font the notices use."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from generate.fonts import reportlab_font

    font = reportlab_font()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle("個人情報等の廃棄について（報告）")
    width, height = A4
    left, right, y = 72.0, width - 72.0, height - 80.0
    lines = report.lines()
    for n, line in enumerate(lines):
        size = 15.0 if line == "個人情報等の廃棄について（報告）" else 10.5
        c.setFont(font, size)
        if n == 0 or n == 2:  # the date and the sender stand on the right
            c.drawRightString(right, y, line)
        elif size > 11 or line in ("記", "以上"):
            (c.drawCentredString((left + right) / 2, y, line) if line != "以上" else c.drawRightString(right, y, line))
        else:
            for chunk in _wrap(line, int((right - left) / size)):
                c.drawString(left, y, chunk)
                y -= size * 1.7
            continue
        y -= size * 1.9
        if y < 72:
            c.showPage()
            y = height - 80.0
    c.showPage()
    c.save()
    return buf.getvalue()


def _wrap(line: str, per_line: int) -> list[str]:
    if not line:
        return [""]
    return [line[i : i + per_line] for i in range(0, len(line), per_line)]


def write_report(report: DestructionReport, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(render_pdf(report))
    return out
