"""``madoguchi serve``: migrations, a Celery worker beside the web server, then waitress."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from forms.errors import AddressUnavailable
from web.app import create_app
from web.config import Settings

log = logging.getLogger("madoguchi.serve")


@dataclass(frozen=True)
class WorkerSpec:
    """One Celery worker ``madoguchi serve`` runs: its queues, processes and niceness."""

    name: str
    queues: tuple[str, ...]
    concurrency: int
    nice: int = 0
    #: Settings of this worker that differ from serve's own (environment variables).
    env: tuple[tuple[str, str], ...] = ()


def worker_specs(settings: Settings) -> list[WorkerSpec]:
    """The main worker (notices, API jobs, mail: quick work) and the reading worker (scans'
    pages and their assembly: OCR, at lower priority so the web server and API keep the CPU)."""
    return [
        WorkerSpec("main", (settings.celery_queue,), 1),
        # the beat schedule (mail, purge) runs in the main worker only
        WorkerSpec("ocr", (settings.celery_ocr_queue,), settings.workers(), settings.worker_nice,
                   env=(("MADOGUCHI_BEAT", "0"),)),
    ]


def worker_command(settings: Settings, spec: WorkerSpec | None = None) -> list[str]:
    spec = spec or WorkerSpec("all", (settings.celery_queue, settings.celery_ocr_queue), settings.workers())
    return [
        sys.executable, "-m", "celery", "--quiet", "-A", "web.worker:celery_app", "worker",
        "-Q", ",".join(spec.queues), "--loglevel=WARNING", f"--concurrency={spec.concurrency}", "--without-gossip",
        "--without-mingle", "--without-heartbeat", "-n", f"madoguchi-{spec.name}-{os.getpid()}@%h",
    ]  # fmt: skip


def start_worker(settings: Settings, spec: WorkerSpec | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["MADOGUCHI_DATA_DIR"] = str(settings.data_path)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(dict(spec.env) if spec else {})
    nice = spec.nice if spec else 0

    def _lower_priority() -> None:
        if nice > 0:
            os.nice(nice)

    # its own process group, so that stopping (or a test killing) it reaches its pool too
    return subprocess.Popen(worker_command(settings, spec), env=env, preexec_fn=_lower_priority,
                            start_new_session=True)


class Supervisor:
    """Keeps the workers running: one that exits (killed, crashed) is started again, at most
    ``burst`` times a minute; every ``sweep_seconds`` documents stuck in reading are requeued."""

    def __init__(self, settings: Settings, specs: list[WorkerSpec], *, burst: int = 5,
                 check_seconds: float = 1.0, sweep_seconds: float = 60.0) -> None:
        self.settings = settings
        self.specs = specs
        self.burst = burst
        self.check_seconds = check_seconds
        self.sweep_seconds = sweep_seconds
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: dict[str, list[float]] = {spec.name: [] for spec in specs}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        for spec in self.specs:
            self.procs[spec.name] = start_worker(self.settings, spec)
        self._thread = threading.Thread(target=self._watch, name="madoguchi-supervisor", daemon=True)
        self._thread.start()

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs.items()}

    def check(self) -> list[str]:
        """Start again each worker that has exited; returns the names restarted."""
        restarted = []
        now = time.monotonic()
        for spec in self.specs:
            proc = self.procs.get(spec.name)
            if proc is None or proc.poll() is None or self._stop.is_set():
                continue
            recent = [t for t in self.restarts[spec.name] if now - t < 60]
            if len(recent) >= self.burst:
                continue  # crashing in a loop: wait for the minute to pass
            log.warning("worker %s (pid %s) exited with %s: starting it again", spec.name, proc.pid, proc.returncode)
            self.procs[spec.name] = start_worker(self.settings, spec)
            log.warning("worker %s started again as pid %s", spec.name, self.procs[spec.name].pid)
            recent.append(now)
            self.restarts[spec.name] = recent
            restarted.append(spec.name)
            if self.settings.celery_ocr_queue in spec.queues:
                self._sweep(timedelta(0))  # what the dead worker was reading is read again
        return restarted

    def _sweep(self, stale_after: timedelta | None = None) -> None:
        from web.tasks import runtime as task_runtime
        from web.tasks import sweep_stuck

        try:
            sweep_stuck(task_runtime(), stale_after)
        except Exception:  # the supervisor must keep watching
            log.exception("sweep of stuck documents failed")

    def _watch(self) -> None:
        last_sweep = time.monotonic()
        while not self._stop.wait(self.check_seconds):
            self.check()
            if time.monotonic() - last_sweep >= self.sweep_seconds:
                last_sweep = time.monotonic()
                self._sweep()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()  # Celery's warm shutdown: running tasks finish, then the pool stops
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
            _kill_group(proc)  # pool processes left behind by a worker that was killed


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


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
    os.umask(0o077)  # everything the service writes is for its own user only
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = Settings()
    if settings.api_processes is None:
        settings = settings.model_copy(update={"api_processes": settings.workers()})
    app = create_app(settings)  # runs the migrations and creates the first account
    rt = app.extensions["madoguchi"]

    from web.bootstrap import initial_credentials

    creds = initial_credentials(rt)
    supervisor = None
    if settings.start_worker and not settings.celery_eager:
        supervisor = Supervisor(settings, worker_specs(settings))
        supervisor.start()

    def _stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"窓口 Madoguchi: http://{host}:{port}/  (職員: http://{host}:{port}/clerk/)", flush=True)
    database = rt.db.engine.url.render_as_string(hide_password=True)
    print(f"  data: {settings.data_path}  database: {database}", flush=True)
    running = ", ".join(f"{name} pid {pid}" for name, pid in supervisor.pids().items()) if supervisor else "none"
    print(f"  broker: {settings.broker_url.split('@')[-1]}  workers: {running}", flush=True)
    if creds:
        print(f"  初期アカウント / first account: user {creds[0]}  password {creds[1]}", flush=True)
        print("  (must be changed at the first login; shown until then, also in the data dir, initial-admin.txt)",
              flush=True)
    from waitress import serve as waitress_serve

    try:
        waitress_serve(app, host=host, port=port, threads=8, ident="madoguchi")
    except KeyboardInterrupt:
        pass
    finally:
        from web.services import shutdown_pool

        shutdown_pool()
        if supervisor is not None:
            supervisor.stop()
