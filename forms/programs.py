"""Program packs: settings (and, beside them, rules and notice templates) per program.

A pack is the directory ``forms/programs/<id>/`` holding ``program.yaml``. Adding a
municipality means adding a pack, not changing the engine.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from forms.errors import CatalogueError, UnknownProgram

PROGRAMS_DIR = Path(__file__).parent / "programs"


class ProgramSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    #: The program's name as printed (渋川市ふるさと応援寄附金（ふるさと納税）).
    name: str
    #: Seed file the rules cite (e.g. "004").
    seed: str
    prefecture: str
    municipality: str
    #: The head's title as printed on notices (渋川市長) and name (may be empty until set).
    head_title: str
    head_name: str = ""
    department: str
    postal_code: str = ""
    address: str = ""
    phone: str = ""
    fax: str = ""
    email: str = ""
    #: Prefix of document numbers: 渋広 → 渋広第12号.
    doc_number_prefix: str
    fiscal_year_start_month: int = Field(default=4, ge=1, le=12)
    #: Catalogue form ids this program uses.
    forms: tuple[str, ...] = ()
    #: Notice kinds this program issues (approval, rejection, …).
    notices: tuple[str, ...] = ()


def load_program_file(path: Path) -> ProgramSettings:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ProgramSettings.model_validate(raw)
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}", file=str(path)) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise CatalogueError(f"{path}: {where}: {err['msg']}", file=str(path), loc=where) from exc


@lru_cache(maxsize=1)
def programs() -> dict[str, ProgramSettings]:
    found: dict[str, ProgramSettings] = {}
    for path in sorted(PROGRAMS_DIR.glob("*/program.yaml")):
        settings = load_program_file(path)
        if settings.id != path.parent.name:
            raise CatalogueError(f"{path}: id {settings.id!r} does not match its directory")
        found[settings.id] = settings
    return found


def get_program(program_id: str) -> ProgramSettings:
    try:
        return programs()[program_id]
    except KeyError:
        known = ", ".join(sorted(programs())) or "none"
        raise UnknownProgram(f"unknown program {program_id!r} (known: {known})", program=program_id) from None
