"""Writes the golden samples of samples/golden/ from the records in samples/records/.

For each record: the blank DOCX filled as a user would (values typed into cells, boxes ticked
☑), the same DOCX printed to PDF by LibreOffice, and the fillable PDF filled in (AcroForm);
each beside the expected JSON, which is the record itself (the ground truth, never the
extractor's own output). Forms without a fillable PDF (documents issued by others, such as the
納税証明書) get the DOCX and its PDF only.

Run: .venv/bin/python samples/make_golden.py [STEM ...]   (no STEM: every record)

The cases of samples/cases/ (the documents of one application and the expected decision of
``madoguchi check``) name these files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forms.catalogue import get_form  # noqa: E402
from generate.fill import fill_docx, fill_pdf  # noqa: E402
from generate.libreoffice import convert_to_pdf  # noqa: E402

HERE = Path(__file__).parent
RECORDS = HERE / "records"
GOLDEN = HERE / "golden"


def main(argv: list[str] | None = None) -> None:
    stems = set(sys.argv[1:] if argv is None else argv)
    records = sorted(RECORDS.glob("*.json"))
    unknown = stems - {p.stem for p in records}
    if unknown:
        raise SystemExit(f"no record samples/records/{{{','.join(sorted(unknown))}}}.json")
    GOLDEN.mkdir(exist_ok=True)
    docx_paths: list[Path] = []
    for record_path in records:
        if stems and record_path.stem not in stems:
            continue
        record = json.loads(record_path.read_text(encoding="utf-8"))
        form = get_form(record["form"])
        stem = record_path.stem
        expected = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
        docx = GOLDEN / f"{stem}.docx"
        docx.write_bytes(fill_docx(form, record["fields"]))
        docx_paths.append(docx)
        (GOLDEN / f"{stem}.docx.json").write_text(expected, encoding="utf-8")
        (GOLDEN / f"{stem}.pdf.json").write_text(expected, encoding="utf-8")
        if form.blank:
            (GOLDEN / f"{stem}_acroform.pdf").write_bytes(fill_pdf(form, record["fields"]))
            (GOLDEN / f"{stem}_acroform.pdf.json").write_text(expected, encoding="utf-8")
    convert_to_pdf(docx_paths, GOLDEN)
    for p in sorted(GOLDEN.iterdir()):
        if not stems or p.name.split(".")[0].removesuffix("_acroform") in stems:
            print(p.relative_to(HERE.parent))


if __name__ == "__main__":
    main()
