import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from generate.numbering import (
    MemoryNumberSequence,
    NumberingError,
    NumberSequence,
    SqliteNumberSequence,
    fiscal_year_of,
    format_document_number,
)

ROOT = Path(__file__).resolve().parents[1]


def test_numbers_count_per_program_and_fiscal_year(tmp_path: Path) -> None:
    seq = SqliteNumberSequence(tmp_path)
    assert [seq.next("shibukawa", 2025) for _ in range(3)] == [1, 2, 3]
    assert seq.next("shibukawa", 2026) == 1
    assert seq.next("tateyama", 2025) == 1
    assert seq.next("shibukawa", 2025) == 4
    assert seq.last("shibukawa", 2025) == 4
    assert seq.last("shika", 2025) == 0


def test_numbers_survive_a_new_instance(tmp_path: Path) -> None:
    SqliteNumberSequence(tmp_path).next("shibukawa", 2025)
    SqliteNumberSequence(tmp_path).next("shibukawa", 2025)
    assert SqliteNumberSequence(tmp_path).next("shibukawa", 2025) == 3
    assert (tmp_path / SqliteNumberSequence.FILENAME).is_file()


def test_numbers_never_repeat_across_processes(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from pathlib import Path
        from generate.numbering import SqliteNumberSequence
        seq = SqliteNumberSequence(Path({str(tmp_path)!r}))
        print(" ".join(str(seq.next("shibukawa", 2025)) for _ in range(25)))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    taken: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        taken.extend(int(n) for n in out.split())
    assert sorted(taken) == list(range(1, 101))


def test_unwritable_store_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(NumberingError, match="文書番号"):
        SqliteNumberSequence(blocker / "sub").next("shibukawa", 2025)


def test_memory_sequence_and_protocol() -> None:
    seq = MemoryNumberSequence({("shibukawa", 2025): 11})
    assert seq.next("shibukawa", 2025) == 12
    assert seq.next("shibukawa", 2024) == 1
    assert isinstance(seq, NumberSequence)
    assert isinstance(SqliteNumberSequence(Path("unused")), NumberSequence)


@pytest.mark.parametrize(
    ("day", "start", "expected"),
    [
        (date(2025, 4, 1), 4, 2025),
        (date(2026, 3, 31), 4, 2025),
        (date(2026, 1, 5), 1, 2026),
        (date(2025, 12, 31), 1, 2025),
    ],
)
def test_fiscal_year_of(day: date, start: int, expected: int) -> None:
    assert fiscal_year_of(day, start) == expected


def test_format_document_number() -> None:
    assert format_document_number("渋広", 12) == "渋広第12号"
    with pytest.raises(ValueError):
        format_document_number("渋広", 0)
    with pytest.raises(ValueError):
        fiscal_year_of(date(2025, 1, 1), 13)
