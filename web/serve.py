"""``madoguchi serve``: migrations, a Celery worker beside the web server, then waitress."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from forms.errors import AddressUnavailable
from web.app import create_app
from web.config import Settings

log = logging.getLogger("madoguchi.serve")


def worker_command(settings: Settings) -> list[str]:
    return [
        sys.executable, "-m", "celery", "--quiet", "-A", "web.worker:celery_app", "worker",
        "-Q", settings.celery_queue, "--loglevel=WARNING", f"--concurrency={settings.workers()}", "--without-gossip",
        "--without-mingle", "--without-heartbeat", "-n", f"madoguchi-{os.getpid()}@%h",
    ]  # fmt: skip


def start_worker(settings: Settings) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["MADOGUCHI_DATA_DIR"] = str(settings.data_path)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return subprocess.Popen(worker_command(settings), env=env)


def check_address_free(host: str, port: int) -> None:
    """AddressUnavailable when ``host:port`` cannot be listened on (another service, or Madoguchi
    already running), before anything is started."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise AddressUnavailable(f"{host} を解決できません (cannot resolve {host}): {exc}", host=host, port=port) from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise AddressUnavailable(
                f"{host}:{port} は使用中です。--port で別のポートを指定してください "
                f"(address in use: {exc.strerror})", host=host, port=port,
            ) from exc


def serve(host: str, port: int) -> None:
    check_address_free(host, port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = Settings()
    if settings.api_processes is None:
        settings = settings.model_copy(update={"api_processes": settings.workers()})
    app = create_app(settings)  # runs the migrations and creates the first account
    rt = app.extensions["madoguchi"]

    from web.bootstrap import initial_credentials

    creds = initial_credentials(rt)
    worker = start_worker(settings) if settings.start_worker and not settings.celery_eager else None

    def _stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"窓口 Madoguchi: http://{host}:{port}/  (職員: http://{host}:{port}/clerk/)", flush=True)
    database = rt.db.engine.url.render_as_string(hide_password=True)
    print(f"  data: {settings.data_path}  database: {database}", flush=True)
    running = f"pid {worker.pid}" if worker else "none"
    print(f"  broker: {settings.broker_url.split('@')[-1]}  worker: {running}", flush=True)
    if creds:
        print(f"  初期アカウント / first account: user {creds[0]}  password {creds[1]}", flush=True)
        print("  (shown until the password is changed; also in the data dir, initial-admin.txt)", flush=True)
    from waitress import serve as waitress_serve

    try:
        waitress_serve(app, host=host, port=port, threads=8, ident="madoguchi")
    except KeyboardInterrupt:
        pass
    finally:
        from web.services import shutdown_pool

        shutdown_pool()
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
