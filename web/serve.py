"""``madoguchi serve``: the web server (the web issue adds the background worker)."""

from __future__ import annotations

from web.app import create_app


def serve(host: str, port: int) -> None:
    app = create_app()
    print(f"窓口 Madoguchi: http://{host}:{port}/", flush=True)
    from waitress import serve as waitress_serve

    waitress_serve(app, host=host, port=port, threads=8)
