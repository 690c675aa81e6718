"""Files kept in the data directory, outside the web root, served only through checked views.

Originals are stored once under their SHA-256 and never modified (0440); page images, notices
and publications are derived files that can be made again.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

EXTENSIONS = {"pdf": ".pdf", "png": ".png", "jpeg": ".jpg", "tiff": ".tif", "docx": ".docx"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def original_path(self, digest: str, kind: str) -> Path:
        return self.root / "originals" / digest[:2] / f"{digest}{EXTENSIONS.get(kind, '.bin')}"

    def save_original(self, data: bytes, kind: str) -> tuple[str, Path]:
        """Store the bytes under their hash (once); returns (sha256, path)."""
        digest = sha256(data)
        path = self.original_path(digest, kind)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.chmod(0o440)
            tmp.replace(path)
        return digest, path

    def page_image(self, digest: str, page: int) -> Path:
        return self.root / "pages" / digest[:2] / digest / f"page-{page:03d}.png"

    def notice_dir(self, case_id: int) -> Path:
        return self.root / "notices" / str(case_id)

    def publication_dir(self, program_id: str, pub_id: int) -> Path:
        return self.root / "published" / safe_name(program_id) / str(pub_id)

    def save_api_upload(self, job_id: str, data: bytes, kind: str) -> Path:
        """An API upload, kept only until its job is done."""
        path = self.root / "api" / job_id / f"upload{EXTENSIONS.get(kind, '.bin')}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def api_upload(self, job_id: str) -> Path:
        found = sorted((self.root / "api" / job_id).glob("upload.*"))
        if not found:
            raise FileNotFoundError(job_id)
        return found[0]

    def drop_api_upload(self, job_id: str) -> None:
        folder = self.root / "api" / job_id
        for p in folder.glob("*"):
            p.unlink(missing_ok=True)
        if folder.exists():
            folder.rmdir()

    def relative(self, path: Path) -> str:
        return str(path.resolve().relative_to(self.root.resolve()))

    def resolve(self, relative: str) -> Path:
        """A stored file by its relative path; refuses anything outside the files directory."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("path outside the storage")
        return path


def safe_name(name: str) -> str:
    """A file name without directories or characters that mean something to a shell or browser."""
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f<>:\"/\\|?*]", "_", name).strip(" .")
    return name[:200] or "file"
