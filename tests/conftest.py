"""Shared fixtures: the external test documents and a builder of minimal DOCX packages."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

# Copies of ../shared/external/ (with their licences) live in the repository, so that CI on a
# clean clone reads the same documents.
EXTERNAL = Path(__file__).resolve().parents[1] / "samples" / "external"


@pytest.fixture(autouse=True, scope="session")
def _fresh_ocr_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test run starts with an empty OCR cache: a result cached by an earlier run (or by
    the developer's own use) must not make a test pass."""
    import os

    os.environ["MADOGUCHI_CACHE_DIR"] = str(tmp_path_factory.mktemp("ocr-cache"))

_W_NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)

_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)


@pytest.fixture
def external() -> Path:
    if not EXTERNAL.is_dir():
        pytest.skip("external test documents are not available")
    return EXTERNAL


@pytest.fixture
def docx_from_body() -> Callable[..., bytes]:
    """Build a DOCX whose body is the given WordprocessingML (w:, w14:, mc:, wps:, v: bound)."""

    def build(body: str, *, document: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
        xml = document or (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f"<w:document {_W_NAMESPACES}><w:body>{body}</w:body></w:document>"
        )
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
            zf.writestr("_rels/.rels", _RELS)
            zf.writestr("word/document.xml", xml)
            for name, data in (extra or {}).items():
                zf.writestr(name, data)
        return buf.getvalue()

    return build
