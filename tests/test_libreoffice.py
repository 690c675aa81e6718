import threading
from pathlib import Path

import pdfplumber
import pytest
from docx import Document
from pypdf import PdfReader

from forms.errors import MadoguchiError, ProgramFailed, ProgramMissing, ProgramTimeout
from generate import libreoffice
from generate.libreoffice import convert_to_pdf


def _docx(path: Path, text: str) -> Path:
    doc = Document()
    run = doc.add_paragraph().add_run(text)
    run.font.name = "IPAexMincho"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def _embedded_fonts(pdf: Path) -> dict[str, bool]:
    """BaseFont → whether the font program is embedded, for every font of every page."""
    found: dict[str, bool] = {}
    for page in PdfReader(pdf).pages:
        fonts = page["/Resources"].get_object().get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descriptors = [font.get("/FontDescriptor")]
            for descendant in font.get("/DescendantFonts", []):
                descriptors.append(descendant.get_object().get("/FontDescriptor"))
            embedded = any(
                d is not None and any(k in d.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
                for d in descriptors
            )
            found[str(font["/BaseFont"])] = embedded
    return found


def test_batch_keeps_order_embeds_fonts_and_reads_back(tmp_path: Path) -> None:
    sources = [
        _docx(tmp_path / "a" / "first.docx", "渋川市長 承認書 一"),
        _docx(tmp_path / "a" / "second.docx", "愛媛県知事 通知書 二"),
    ]
    pdfs = convert_to_pdf(sources, tmp_path / "out")
    assert [p.name for p in pdfs] == ["first.pdf", "second.pdf"]
    texts = []
    for pdf in pdfs:
        with pdfplumber.open(pdf) as doc:
            texts.append("".join(doc.pages[0].extract_text().split()))
        fonts = _embedded_fonts(pdf)
        assert fonts and all(fonts.values()), fonts
        assert any("IPA" in name for name in fonts), fonts  # a Japanese face drew the text
    assert texts == ["渋川市長承認書一", "愛媛県知事通知書二"]
    # The staging directories are gone.
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["first.pdf", "second.pdf"]


def test_colliding_names_get_separate_starts_and_names(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    starts: list[list[str]] = []

    def fake_soffice(batch: list[Path], outdir: Path, profile: Path, *, timeout: float) -> str:
        starts.append([str(p.relative_to(tmp_path)) for p in batch])
        for src in batch:
            (outdir / f"{src.stem}.pdf").write_text(str(src))
        return ""

    monkeypatch.setattr(libreoffice, "_run_soffice", fake_soffice)
    sources = [
        _docx(tmp_path / d / f"{n}.docx", n) for d, n in (("a", "x"), ("a", "y"), ("b", "x"), ("c", "x"))
    ]
    pdfs = convert_to_pdf(sources, tmp_path / "out")
    assert [p.name for p in pdfs] == ["x.pdf", "y.pdf", "x-2.pdf", "x-3.pdf"]
    assert starts == [["a/x.docx", "a/y.docx"], ["b/x.docx"], ["c/x.docx"]]
    assert [p.read_text() for p in pdfs] == [str(s) for s in sources]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x-2.pdf", "x-3.pdf", "x.pdf", "y.pdf"]
    starts.clear()
    many = [_docx(tmp_path / "m" / f"d{i}.docx", str(i)) for i in range(20)]
    convert_to_pdf(many, tmp_path / "out2", workers=2)
    assert sorted(len(s) for s in starts) == [10, 10]  # split over two LibreOffice processes


def test_concurrent_conversions_into_one_directory(tmp_path: Path) -> None:
    results: dict[int, list[Path]] = {}
    errors: list[MadoguchiError] = []

    def work(i: int) -> None:
        try:
            src = [_docx(tmp_path / f"src{i}" / f"doc{i}.docx", f"並行 {i}")]
            results[i] = convert_to_pdf(src, tmp_path / "out")
        except MadoguchiError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert all(p.is_file() for paths in results.values() for p in paths)
    assert sorted(p.name for paths in results.values() for p in paths) == ["doc0.pdf", "doc1.pdf"]


def test_missing_source_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ProgramFailed, match="no such document"):
        convert_to_pdf([tmp_path / "nothere.docx"], tmp_path)
    assert convert_to_pdf([], tmp_path) == []


def test_missing_libreoffice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(libreoffice.shutil, "which", lambda name: None)
    with pytest.raises(ProgramMissing, match="LibreOffice"):
        convert_to_pdf([_docx(tmp_path / "x.docx", "x")], tmp_path / "out")


def test_timeout_ends_libreoffice(tmp_path: Path) -> None:
    with pytest.raises(ProgramTimeout, match="did not finish"):
        convert_to_pdf([_docx(tmp_path / "x.docx", "x")], tmp_path / "out", timeout=0.05)
    assert not list((tmp_path / "out").glob("*.pdf"))
    assert not list((tmp_path / "out").glob(".lo-*"))


def test_unconvertible_document_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"PK\x03\x04 this is not a real zip")
    with pytest.raises(ProgramFailed, match="broken"):
        convert_to_pdf([bad], tmp_path / "out")
