"""Numbers are spent only on documents that exist (issue 23 (5)).

Each failure is made to happen for real: LibreOffice not on the PATH, an ``-o`` that is a file
or lies under one, a file-size limit that stops the writing (the disk full), another writer
taking numbers while a batch is made. After each, the installation's counter is where it was,
no notice is left in ``-o``, and the command printed one line and exited 2 or 4.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from forms.errors import ProgramFailed
from generate import notices
from generate.numbering import MemoryNumberSequence, SqliteNumberSequence, fiscal_year_of, issue_numbered
from web.cli import main
from web.generating import installation_numbers

ROOT = Path(__file__).resolve().parents[1]
RECORD = {
    "applicant_name": "株式会社渋川フーズ",
    "applicant_representative": "代表取締役 渋川太郎",
    "product_name": "上州和牛すき焼きセット",
    "application_date": "2026-04-10",
}
FY = fiscal_year_of(date.today())


@pytest.fixture
def installation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An installation (data dir with its database) whose counter for shibukawa stands at 14."""
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MADOGUCHI_DATABASE_URL", raising=False)
    with installation_numbers() as numbers:
        for _ in range(14):
            numbers.next("shibukawa", FY)
    data = tmp_path / "record.json"
    data.write_text(json.dumps(RECORD, ensure_ascii=False), encoding="utf-8")
    return data


def _last() -> int:
    with installation_numbers() as numbers:
        return int(numbers.last("shibukawa", FY))


def _generate(data: Path, out: Path) -> int:
    return main(["generate", "approval", "--program", "shibukawa", "--data", str(data), "-o", str(out)])


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_missing_libreoffice_spends_no_number(
    installation: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "out"
    assert _generate(installation, out) == 4
    assert "LibreOffice" in _one_line(capsys.readouterr().err)
    assert _last() == 14
    assert not out.exists() or list(out.iterdir()) == []
    # with LibreOffice back, the next notice takes the number the failed one did not use
    monkeypatch.undo()
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MADOGUCHI_DATABASE_URL", raising=False)
    assert _generate(installation, out) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"shibukawa-approval-{FY}-0015.docx", f"shibukawa-approval-{FY}-0015.pdf"]
    assert _last() == 15


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_unwritable_output_is_one_line_exit_2(
    where: str, installation: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "taken.txt"
    blocker.write_text("not a directory", encoding="utf-8")
    out = blocker if where == "a file" else blocker / "notices"
    assert _generate(installation, out) == 2
    assert "出力先" in _one_line(capsys.readouterr().err)
    assert _last() == 14
    assert blocker.read_text(encoding="utf-8") == "not a directory"


def test_published_list_into_an_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "taken.txt"
    blocker.write_text("x", encoding="utf-8")
    data = tmp_path / "certs.json"
    data.write_text(
        json.dumps([{"product_name": "手ぬぐい", "manufacturer_name": "A社", "percentage": 60}], ensure_ascii=False),
        encoding="utf-8",
    )
    code = main(["generate", "published_list", "--program", "shibukawa", "--data", str(data), "-o", str(blocker / "x")])
    assert code == 2
    _one_line(capsys.readouterr().err)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs (needs root; skipped where the test may not mount)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, timeout=30)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True, timeout=30)


def _fill(disk: Path, leave: int) -> None:
    """Fill the disk up to ``leave`` bytes free."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("ab") as fh:
        fh.write(b"\0" * max(0, free - leave))


@pytest.mark.parametrize("free_kb", [2, 24], ids=["docx-cannot-be-written", "pdf-cannot-be-written"])
def test_disk_full_spends_no_number(
    free_kb: int, installation: Path, small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A full disk under ``-o``: with 2 kB free the DOCX is not written (exit 2), with 24 kB the
    DOCX is (9 kB) but not LibreOffice's PDF (40 kB: exit 2 or 4 as LibreOffice reports it)."""
    _fill(small_disk, free_kb * 1024)
    out = small_disk / "out"
    code = _generate(installation, out)
    err = _one_line(capsys.readouterr().err)
    assert code == 2 if free_kb == 2 else code in (2, 4), err
    assert _last() == 14
    assert list(out.iterdir()) == []  # nor a staging directory left behind


def test_libreoffice_failing_midway_spends_no_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A LibreOffice that starts but converts nothing (a stand-in script on the PATH)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    script = fake / "soffice"
    script.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 0\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    seq = SqliteNumberSequence(tmp_path / "numbers")
    seq.next("shibukawa", FY)
    with pytest.raises(ProgramFailed):
        notices.render_notices("approval", "shibukawa", [RECORD, RECORD], tmp_path / "out", numbers=seq)
    assert seq.last("shibukawa", FY) == 1
    assert list((tmp_path / "out").iterdir()) == []


def test_numbers_taken_meanwhile_are_not_taken_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer takes a number while the batch is converted: the batch is made again
    with the numbers after it, and only those files are left."""
    seq = SqliteNumberSequence(tmp_path / "numbers")
    real = notices.convert_to_pdf
    calls = []

    def convert_while_someone_takes_a_number(sources: list[Path], outdir: Path, **kw: object) -> list[Path]:
        calls.append(len(sources))
        if len(calls) == 1:
            assert seq.next("shibukawa", FY) == 1  # the web service, say
        return real(sources, outdir, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(notices, "convert_to_pdf", convert_while_someone_takes_a_number)
    rendered = notices.render_notices(
        "approval", "shibukawa", [RECORD], tmp_path / "out", numbers=seq, issue_date=date.today()
    )
    assert [r.number for r in rendered] == [2]
    assert calls == [1, 1]
    assert seq.last("shibukawa", FY) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"shibukawa-approval-{FY}-0002.docx",
        f"shibukawa-approval-{FY}-0002.pdf",
    ]


def test_claim_rolls_back_when_finishing_fails(tmp_path: Path) -> None:
    for seq in (SqliteNumberSequence(tmp_path), MemoryNumberSequence()):
        seq.next("tateyama", 2026)

        def finish(made: int, tx: object) -> None:
            raise OSError("disk full")

        with pytest.raises(OSError):
            issue_numbered(seq, "tateyama", 2026, 3, lambda first: first, finish, lambda made: None)
        assert seq.last("tateyama", 2026) == 1
        assert issue_numbered(seq, "tateyama", 2026, 3, lambda first: first, lambda m, tx: m, lambda m: None) == 2
        assert seq.last("tateyama", 2026) == 4
        assert seq.next("tateyama", 2026) == 5  # the old call still works beside it


def test_db_sequence_claims_and_records_in_one_transaction(tmp_path: Path) -> None:
    from web.db import Database
    from web.numbering import DbNumberSequence

    db = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    db.migrate()
    try:
        seen: list[object] = []
        seq = DbNumberSequence(db, on_commit=lambda session, result: seen.append(result))
        assert seq.next("shika", 2026) == 1
        ok, result = seq.claim("shika", 2026, 1, 2, lambda tx: "made")
        assert (ok, result, seen) == (True, "made", ["made"]) and seq.last("shika", 2026) == 3
        assert seq.claim("shika", 2026, 1, 1, lambda tx: "stale") == (False, None)

        def fail(tx: object) -> None:
            raise OSError("disk full")

        with pytest.raises(OSError):
            seq.claim("shika", 2026, 3, 1, fail)
        assert seq.last("shika", 2026) == 3
        ok, _ = seq.claim("gunma-mask", 2026, 0, 1, lambda tx: None)  # a counter not yet made
        assert ok and seq.last("gunma-mask", 2026) == 1
    finally:
        db.dispose()


def test_an_unreadable_number_store_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installation's database is not a database: a one-line error, no traceback, no notice."""
    var = tmp_path / "var"
    var.mkdir()
    (var / "madoguchi.db").write_bytes(b"this is not an SQLite file" * 100)
    monkeypatch.setenv("MADOGUCHI_DATA_DIR", str(var))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("MADOGUCHI_DATABASE_URL", raising=False)
    data = tmp_path / "r.json"
    data.write_text(json.dumps(RECORD, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    assert _generate(data, out) == 5
    assert "文書番号の記録" in _one_line(capsys.readouterr().err)
    assert not out.exists() or list(out.iterdir()) == []
