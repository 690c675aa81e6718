"""The Flask application factory."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def index() -> str:
        return (
            "<!doctype html><html lang='ja'><meta charset='utf-8'><title>窓口 Madoguchi</title>"
            "<h1>窓口 — 返礼品・申請書類の受付</h1><p>サービスは稼働中です。</p></html>"
        )

    return app
