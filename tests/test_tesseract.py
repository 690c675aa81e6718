"""The Tesseract wrapper: real recognition on a small image, and every failure made clear."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from extract import tesseract
from forms.errors import ProgramFailed, ProgramMissing, ProgramTimeout

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"


def _line(text: str, size: int = 48) -> Image.Image:
    font = ImageFont.truetype(FONT, size)
    img = Image.new("L", (size * (len(text) + 2), size * 2), 255)
    ImageDraw.Draw(img).text((size, size // 2), text, font=font, fill=0)
    return img


def _fake_tesseract(tmp_path: Path, body: str, langs: str = "eng\njpn\nosd") -> Path:
    """A stand-in ``tesseract`` on PATH: answers --list-langs / --version, else runs ``body``."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "tesseract"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--list-langs" ]; then echo "List of available languages in \\"/x/\\" (3):"; '
        f"printf '{langs}\\n'; exit 0; fi\n"
        'if [ "$1" = "--version" ]; then echo "tesseract 9.9.9"; exit 0; fi\n'
        f"{body}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return bindir


def test_missing_binary_is_program_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ProgramMissing, match="tesseract"):
        tesseract.ocr_words(_line("試験"))
    with pytest.raises(ProgramMissing):
        tesseract.detect_orientation(_line("試験"))


def test_missing_japanese_data_is_program_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = _fake_tesseract(tmp_path, "exit 0", langs="eng\\nosd")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ProgramMissing, match="jpn") as info:
        tesseract.ocr_words(_line("試験"))
    assert "tesseract-ocr-jpn" in info.value.message


def test_timeout_is_program_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = _fake_tesseract(tmp_path, "sleep 5")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ProgramTimeout):
        tesseract.ocr_words(_line("試験"), timeout=0.5)


def test_failure_is_program_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = _fake_tesseract(tmp_path, "echo 'Error: broken page' >&2; exit 1")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ProgramFailed, match="broken page"):
        tesseract.ocr_words(_line("試験"))


def test_pages_are_read_with_one_openmp_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # OpenMP's threads made a page 3x slower on 2 cores; plain runs for the benchmark keep the
    # shell's default unless told
    seen = tmp_path / "omp"
    bindir = _fake_tesseract(tmp_path, f'echo "omp=$OMP_THREAD_LIMIT" >> {seen}; exit 1')
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ProgramFailed):
        tesseract.ocr_words(_line("試験"))
    image = tmp_path / "page.png"
    _line("試験").save(image)
    for threads in (None, "1"):
        with pytest.raises(ProgramFailed):
            tesseract.run_plain(image, threads=threads)
    assert seen.read_text().split() == ["omp=1", "omp=", "omp=1"]


def test_reads_japanese_words_with_pixel_boxes() -> None:
    img = _line("渋川市寄附金")
    words = tesseract.ocr_words(img, dpi=300)
    text = "".join(w.text for w in words)
    assert text == "渋川市寄附金"
    for w in words:
        x0, y0, x1, y1 = w.box
        assert 0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height
        assert 0 <= w.conf <= 100
    assert words[0].box[0] == pytest.approx(48, abs=8)


def test_osd_on_a_sparse_image_is_not_an_error() -> None:
    blank = Image.new("L", (300, 200), 255)
    assert tesseract.osd(blank) is None
    assert tesseract.detect_orientation(blank) == 0


def test_version_and_languages() -> None:
    assert tesseract.version()[0].isdigit()
    assert {"jpn", "osd"} <= tesseract.languages()


def test_own_models_are_read_from_their_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "args"
    bindir = _fake_tesseract(tmp_path, f'echo "$@" >> {seen}; exit 1')
    models = tmp_path / "my models"
    models.mkdir()
    (models / "jpn_best.traineddata").write_bytes(b"model")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(tesseract.MODELS_DIR_ENV, str(models))
    assert "jpn_best" in tesseract.languages()
    for lang in ("jpn_best", "jpn"):
        with pytest.raises(ProgramFailed):
            tesseract.ocr_words(_line("試験"), lang=lang)
    best, fast = seen.read_text().splitlines()
    assert "-l jpn_best" in best and f"--tessdata-dir {models}" in best
    assert "--tessdata-dir" not in fast


def test_a_missing_own_model_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tesseract.MODELS_DIR_ENV, str(tmp_path))
    with pytest.raises(ProgramMissing, match="jpn_best") as info:
        tesseract.require("jpn_best")
    assert tesseract.MODELS_DIR_ENV in info.value.message


HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
    "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en"><head><title></title></head>
<body><div class='ocr_page' id='page_1' title='bbox 0 0 600 200'>
 <div class='ocr_carea' id='block_1_1' title="bbox 10 10 500 60">
  <p class='ocr_par' id='par_1_1' lang='jpn' title="bbox 10 10 500 60">
   <span class='ocr_line' id='line_1_1' title="bbox 10 10 500 60">
    <span class='ocrx_word' id='word_1_1' title='bbox 10 10 80 50; x_wconf 96'>
     <span class='ocrx_cinfo' title='x_bboxes 10 10 40 50; x_conf 99.1'>に</span>
      <span class='ocrx_cinfo' id='lstm_choices_1_1_1'>
       <span class='ocrx_cinfo' id='choice_1_1_1' title='x_confs 93.9'>に</span>
       <span class='ocrx_cinfo' id='choice_1_1_2' title='x_confs 0'>た</span>
      </span>
     <span class='ocrx_cinfo' title='x_bboxes 45 14 80 50; x_conf 96.8'>や</span>
      <span class='ocrx_cinfo' id='lstm_choices_1_1_2'>
       <span class='ocrx_cinfo' id='choice_1_1_3' title='x_confs 89.9'>や</span>
       <span class='ocrx_cinfo' id='choice_1_1_4' title='x_confs 31.9'>ゃ</span>
      </span>
    </span>
    <span class='ocrx_word' id='word_1_2' title='bbox 300 10 330 50; x_wconf 71'>
     <span class='ocrx_cinfo' title='x_bboxes 300 10 330 50; x_conf 71'>く</span>
    </span>
   </span>
  </p>
 </div>
 <div class='ocr_carea' id='block_1_2' title="bbox 10 100 500 160">
  <p class='ocr_par' id='par_1_2' lang='jpn' title="bbox 10 100 500 160">
   <span class='ocr_line' id='line_1_2' title="bbox 10 100 500 160">
    <span class='ocrx_word' id='word_1_3' title='bbox 10 100 60 150; x_wconf 90'>
     <span class='ocrx_cinfo' title='x_bboxes 10 100 60 150; x_conf 90'>芋</span>
    </span>
   </span>
  </p>
 </div>
</div></body></html>"""


def test_hocr_words_carry_boxes_lines_and_the_models_choices() -> None:
    words = tesseract.parse_hocr(HOCR)
    assert [w.text for w in words] == ["にや", "く", "芋"]
    assert words[0].box == (10, 10, 80, 50) and words[0].conf == 96
    assert words[0].choices == ((("に", 93.9), ("た", 0.0)), (("や", 89.9), ("ゃ", 31.9)))
    assert words[0].char_confs == (99.1, 96.8)
    assert words[0].char_boxes == ((10, 10, 40, 50), (45, 14, 80, 50))
    assert words[1].choices == ((),)  # a character without choices
    assert words[0].line == words[1].line != words[2].line


def test_unreadable_hocr_is_program_failed() -> None:
    with pytest.raises(ProgramFailed, match="hOCR"):
        tesseract.parse_hocr(b"<html><body><div class='ocr_page'")


def test_real_ocr_gives_choices_for_every_character() -> None:
    words = tesseract.ocr_words(_line("こんにゃく"), dpi=300)
    assert "".join(w.text for w in words).replace("や", "ゃ") == "こんにゃく"
    assert all(len(w.choices) == len(w.text) for w in words)
    assert all(c and c[0][0] for w in words for c in w.choices)
