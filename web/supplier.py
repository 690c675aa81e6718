"""Pages for suppliers, no login: programs, blank forms, web forms giving a filled PDF, the
published lists. Nothing a supplier types is stored or logged: the filled PDF is made in memory
and sent back.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file
from sqlalchemy import select

from forms.errors import MadoguchiError
from forms.schema import FormDecl
from web import services
from web.db_session import db_session, runtime
from web.models import Publication
from web.values import caption, form_text, guided_parts, parse_form

bp = Blueprint("supplier", __name__)


def _supplier_form(form_id: str) -> FormDecl:
    try:
        form = services.get_form(form_id)
    except MadoguchiError:
        abort(404)
    if not form.blank:
        abort(404)
    return form


@bp.get("/")
def index() -> Any:
    return render_template("supplier/index.html", programs=services.programs())


@bp.get("/programs/<program_id>")
def program(program_id: str) -> Any:
    settings = services.get_program(program_id)
    forms = [f for f in services.program_forms(program_id) if f.blank]
    latest = db_session().scalar(
        select(Publication).where(Publication.program_id == program_id).order_by(Publication.id.desc()).limit(1)
    )
    return render_template("supplier/program.html", program=settings, forms=forms, publication=latest)


@bp.get("/forms/<form_id>.<fmt>")
def blank(form_id: str, fmt: str) -> Any:
    if fmt not in ("docx", "pdf"):
        abort(404)
    form = _supplier_form(form_id)
    data = services.blank_form(form, fmt)
    mimetype = "application/pdf" if fmt == "pdf" else services.MEDIA_TYPES["docx"]
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=f"{form.id}.{fmt}")


@bp.route("/forms/<form_id>/fill", methods=["GET", "POST"])
def fill(form_id: str) -> Any:
    form = _supplier_form(form_id)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values, errors = parse_form(form.fields(), request.form)
        if not errors:
            data = services.filled_pdf(form, {k: v for k, v in values.items() if v not in (None, "", [])})
            return send_file(
                io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=f"{form.id}-filled.pdf"
            )
        status = 422
    return (
        render_template(
            "supplier/fill.html",
            form=form,
            values=values,
            errors=errors,
            text=form_text,
            caption=caption,
            guided=guided_parts,
        ),
        status,
    )


@bp.get("/published/<program_id>")
def published(program_id: str) -> Any:
    """The latest published list of value-added certificates, as the generator wrote it."""
    services.get_program(program_id)
    pub = db_session().scalar(
        select(Publication).where(Publication.program_id == program_id).order_by(Publication.id.desc()).limit(1)
    )
    if pub is None or "html" not in pub.files:
        abort(404)
    resp = send_file(runtime().storage.resolve(pub.files["html"]), mimetype="text/html")
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return resp


@bp.get("/published/<program_id>/<int:pub_id>.<fmt>")
def published_file(program_id: str, pub_id: int, fmt: str) -> Any:
    pub = db_session().get(Publication, pub_id)
    if pub is None or pub.program_id != program_id or fmt not in pub.files:
        abort(404)
    path = runtime().storage.resolve(pub.files[fmt])
    mimetype = {"pdf": "application/pdf", "html": "text/html"}.get(fmt, "text/csv")
    ext = "csv" if fmt.startswith("csv") else fmt
    name = f"{program_id}-{pub_id}-{fmt}.{ext}"
    return send_file(path, mimetype=mimetype, as_attachment=fmt != "html", download_name=name)
