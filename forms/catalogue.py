"""Loads and validates the form declarations in ``forms/catalogue/*.yaml``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from forms.errors import CatalogueError, UnknownForm
from forms.schema import FormDecl

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


def load_form_file(path: Path) -> FormDecl:
    """Parse one declaration; an error names the file and the field at fault."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path.name}: not valid YAML: {exc}", file=str(path)) from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path.name}: a form declaration must be a mapping", file=str(path))
    try:
        form = FormDecl.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _describe_location(raw, err["loc"])
        raise CatalogueError(f"{path.name}: {where}: {err['msg']}", file=str(path), loc=where) from exc
    if form.id != path.stem:
        raise CatalogueError(f"{path.name}: id {form.id!r} does not match the file name", file=str(path))
    return form


def _describe_location(raw: object, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into words, naming the field key where there is one."""
    parts: list[str] = []
    node = raw
    for step in loc:
        try:
            node = node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            parts.append(str(step))
            continue
        if isinstance(node, dict) and "key" in node:
            parts.append(f"field {node['key']}")
        elif isinstance(node, dict) and "label" in node and isinstance(step, int):
            parts.append(f"row {node['label']}")
        elif not isinstance(step, int):
            parts.append(str(step))
    return " / ".join(parts) or "(top level)"


@lru_cache(maxsize=1)
def catalogue() -> dict[str, FormDecl]:
    """Every declared form, by id. Loaded once per process."""
    return load_catalogue(CATALOGUE_DIR)


def load_catalogue(directory: Path) -> dict[str, FormDecl]:
    forms: dict[str, FormDecl] = {}
    for path in sorted(directory.glob("*.yaml")):
        form = load_form_file(path)
        forms[form.id] = form
    return forms


def get_form(form_id: str) -> FormDecl:
    try:
        return catalogue()[form_id]
    except KeyError:
        known = ", ".join(sorted(catalogue()))
        raise UnknownForm(f"unknown form {form_id!r} (known: {known})", form=form_id) from None
