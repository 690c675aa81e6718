"""The mail forms (``forms/catalogue/mail/*.yaml``) and each program's handling settings
(``forms/programs/<id>/handling.yaml``: mail subject and wording, retention, the yearly filing),
validated by ``forms.schema`` when they load, like the rest of the catalogue."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from forms.catalogue import CATALOGUE_DIR
from forms.errors import CatalogueError, UnknownForm
from forms.programs import PROGRAMS_DIR
from forms.schema import MailFormDecl, ProgramHandling

MAIL_FORMS_DIR = CATALOGUE_DIR / "mail"


def _load(path: Path, model: type[BaseModel]) -> Any:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(raw or {})
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: not valid YAML: {exc}", file=str(path)) from exc
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise CatalogueError(f"{path}: {where}: {err['msg']}", file=str(path), loc=where) from exc


@lru_cache(maxsize=1)
def mail_forms() -> dict[str, MailFormDecl]:
    found: dict[str, MailFormDecl] = {}
    for path in sorted(MAIL_FORMS_DIR.glob("*.yaml")):
        form: MailFormDecl = _load(path, MailFormDecl)
        if form.id != path.stem:
            raise CatalogueError(f"{path.name}: id {form.id!r} does not match the file name", file=str(path))
        found[form.id] = form
    return found


def mail_form(form_id: str) -> MailFormDecl:
    try:
        return mail_forms()[form_id]
    except KeyError:
        raise UnknownForm(f"unknown mail form {form_id!r}", form=form_id) from None


@lru_cache(maxsize=64)
def handling(program_id: str) -> ProgramHandling:
    """The program's handling settings; the defaults (no mail subject, no retention period)
    when the pack has no ``handling.yaml``."""
    path = PROGRAMS_DIR / program_id / "handling.yaml"
    if not path.is_file():
        return ProgramHandling()
    settings: ProgramHandling = _load(path, ProgramHandling)
    if settings.mail.form is not None:
        mail_form(settings.mail.form)
    return settings


def subject_key(text: str) -> str:
    """A subject as compared: NFKC, without spaces, brackets' contents kept, 'Re:'/'Fwd:' off."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(text.split())
    lowered = text.lower()
    while lowered[:3] in ("re:", "fw:") or lowered[:4] == "fwd:":
        cut = 4 if lowered[:4] == "fwd:" else 3
        text, lowered = text[cut:], lowered[cut:]
    return text


def program_for_subject(subject: str, program_ids: list[str]) -> str | None:
    """The program whose declared subject the message's subject is (or contains)."""
    key = subject_key(subject)
    if not key:
        return None
    for program_id in program_ids:
        mail = handling(program_id).mail
        for declared in (mail.subject, *mail.subject_variants):
            if declared and subject_key(declared) in key:
                return program_id
    return None
