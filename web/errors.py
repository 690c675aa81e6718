"""Errors become answers here, and only here: JSON under /api/, a Japanese page elsewhere."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from forms.errors import MadoguchiError

log = logging.getLogger("madoguchi.web")

HTTP_MESSAGES = {
    400: "リクエストが正しくありません。",
    401: "認証が必要です。",
    403: "この操作を行う権限がありません。",
    404: "ページが見つかりません。",
    405: "この方法では操作できません。",
    413: "ファイルが大きすぎます。",
    415: "対応していないファイル形式です。",
    422: "ファイルを読み取れません。",
    429: "リクエストが多すぎます。しばらくしてからお試しください。",
    500: "内部エラーが発生しました。",
    503: "現在この機能は利用できません。",
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_type",
    429: "too_many_requests",
    500: "internal",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(status: int, code: str, message: str) -> tuple[Response | str, int]:
    if wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def api_error(status: int, code: str, message: str, **headers: str) -> Response:
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    resp.headers.update(headers)
    return resp


def register(app: Flask) -> None:
    @app.errorhandler(MadoguchiError)
    def _madoguchi(exc: MadoguchiError) -> Any:
        if exc.http_status >= 500:
            log.error("%s on %s", exc.code, request.endpoint)
        return error_response(exc.http_status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        message = "フォームの有効期限が切れました。ページを再読み込みしてからやり直してください。"
        return error_response(400, "csrf", message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        status = exc.code or 500
        message = HTTP_MESSAGES.get(status, exc.description or "")
        if status == 413 and request.path.startswith("/api/"):
            message = "file is larger than the upload limit"
        return error_response(status, HTTP_CODES.get(status, "error"), message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unhandled error on %s", request.endpoint)
        return error_response(500, "internal", HTTP_MESSAGES[500])
