"""Load on loopback against ``madoguchi serve`` (waitress + a Celery worker, SQLite, filesystem
broker), started here on a free port with a fresh data directory:

1. ``POST /api/v1/extract`` of a one-page text-layer PDF by 8 concurrent clients (one API token
   each, as separate systems would have): latency p50 / p95 / max and requests per second
   (target: p95 under 300 ms), the same file again and a different file each time.
2. A scanned file of 50 pages uploaded at once through the clerk's upload and read in the
   background (the reading worker, at lower priority); *while it is being read*, the API run of
   different files again (target: p95 under 300 ms on the same machine), then a clerk loading
   the dashboard until every page is read: dashboard latency and the time the reading took.

    .venv/bin/python bench/load_extract.py [--clients 8] [--requests 200] [--pages 50]

Requests go to 127.0.0.1 only; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import io
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# a one-page text-layer PDF, as the issue asks (様式第6号 printed by LibreOffice)
TEXT_PDF = ROOT / "samples" / "golden" / "shibukawa_form6_wagyu.pdf"
TEXT_PDF_FORM = "shibukawa.form6"
ADMIN_PASSWORD = "bench-admin-password"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = "----madoguchi" + secrets.token_hex(8)
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    # the harness logs in as the first account at once (a person would change its password first)
    env.update(MADOGUCHI_DATA_DIR=str(data_dir), MADOGUCHI_ADMIN_PASSWORD=ADMIN_PASSWORD,
               MADOGUCHI_COOKIE_SECURE="0", MADOGUCHI_ADMIN_MUST_CHANGE_PASSWORD="0")
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(key, None)
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=(data_dir / "server.log").open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the server did not start:\n" + (data_dir / "server.log").read_text()[-2000:])


def api_token(data_dir: Path) -> str:
    from sqlalchemy import select

    from web.auth import issue_token
    from web.config import Settings
    from web.db import Database
    from web.models import User

    db = Database.from_url(Settings(data_dir=data_dir).db_url)
    with db.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        token = issue_token(s, admin, "bench")
    db.dispose()
    return token


def bench_api(port: int, tokens: list[str], clients: int, total: int, distinct: bool) -> dict[str, float]:
    """``distinct``: every request sends other bytes (a comment after %%EOF), so none is answered
    from the server's memory of recent results; otherwise the same file is posted again."""
    pdf = TEXT_PDF.read_bytes()
    counter = iter(range(10**9))

    def request_body(token: str) -> tuple[bytes, dict[str, str]]:
        data = pdf + f"\n% bench {next(counter)} {secrets.token_hex(4)}\n".encode() if distinct else pdf
        body, ctype = multipart({"program": "shibukawa"}, [("file", TEXT_PDF.name, data)])
        return body, {"Authorization": f"Bearer {token}", "Content-Type": ctype}

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    per_client = max(1, total // clients)

    def client(token: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(per_client):
            with lock:
                body, headers = request_body(token)
            t0 = time.perf_counter()
            conn.request("POST", "/api/v1/extract", body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            elapsed = time.perf_counter() - t0
            with lock:
                if resp.status == 200 and json.loads(data)["documents"][0]["form"] == TEXT_PDF_FORM:
                    latencies.append(elapsed)
                else:
                    errors.append(f"{resp.status} {data[:120]!r}")
        conn.close()

    # warm-up: the first requests load the catalogue and rules in the server's reading processes
    for n in range(2 * (os.cpu_count() or 1) + 2):
        body, headers = request_body(tokens[n % len(tokens)])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/api/v1/extract", body=body, headers=headers)
        conn.getresponse().read()
        conn.close()
    threads = [threading.Thread(target=client, args=(tokens[n % len(tokens)],)) for n in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        print(f"  {len(errors)} errors, first: {errors[0]}")
    return {
        "requests": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * percentile(latencies, 95),
        "max_ms": 1000 * max(latencies),
        "rps": len(latencies) / wall,
    }


def scanned_pdf(pages: int) -> bytes:
    """An image-only PDF of ``pages`` scanned pages of 様式第1号 (200 dpi, grey, slightly turned)."""

    from extract.pdftoppm import render_pages

    (page,) = render_pages(TEXT_PDF, [1], dpi=200, gray=True)
    frames = [page.rotate(0.3 * ((i % 5) - 2), fillcolor=255) for i in range(pages)]
    out = io.BytesIO()
    frames[0].save(out, format="PDF", save_all=True, append_images=frames[1:], resolution=200)
    return out.getvalue()


class Browser:
    """A clerk's session: cookies and the CSRF token, over urllib."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[int, bytes]:
        with self.opener.open(self.base + path, timeout=60) as resp:
            return resp.status, resp.read()

    def token(self, path: str) -> str:
        match = re.search(rb'name="csrf_token" value="([^"]+)"', self.get(path)[1])
        assert match, path
        return match.group(1).decode()

    def login(self, user: str, password: str) -> None:
        data = urllib.parse.urlencode({"username": user, "password": password, "csrf_token": self.token("/login")})
        self.opener.open(self.base + "/login", data=data.encode(), timeout=60).read()

    def post(self, path: str, body: bytes, ctype: str) -> bytes:
        req = urllib.request.Request(self.base + path, data=body,
                                     headers={"Content-Type": ctype, "Accept": "application/json"})
        with self.opener.open(req, timeout=300) as resp:
            return resp.read()


def start_scans(port: int, pages: int) -> tuple[Browser, int, float]:
    """Upload the scans and wait until their pages are being read; (clerk, case, start time)."""
    clerk = Browser(f"http://127.0.0.1:{port}")
    clerk.login("admin", ADMIN_PASSWORD)
    pdf = scanned_pdf(pages)
    body, ctype = multipart({"program": "shibukawa", "csrf_token": clerk.token("/clerk/upload")},
                            [("files", f"scan-{pages}p.pdf", pdf)])
    t0 = time.perf_counter()
    case_id = json.loads(clerk.post("/clerk/upload", body, ctype))["cases"][0]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        progress = json.loads(clerk.get(f"/clerk/cases/{case_id}/progress")[1])
        if any(d["status"] == "processing" for d in progress["documents"]):
            break
        time.sleep(0.3)
    time.sleep(3)  # the reading workers are at work on pages
    return clerk, case_id, t0


def pages_read(clerk: Browser, case_id: int) -> int:
    progress = json.loads(clerk.get(f"/clerk/cases/{case_id}/progress")[1])
    return sum(d["pages_done"] for d in progress["documents"])


def finish_scans(clerk: Browser, case_id: int, t0: float, pages: int, limit_s: float) -> dict[str, float]:
    dashboard: list[float] = []
    done_pages = 0
    status = ""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        t1 = time.perf_counter()
        code, html = clerk.get("/clerk/")
        dashboard.append(time.perf_counter() - t1)
        assert code == 200 and "案件一覧".encode() in html
        progress = json.loads(clerk.get(f"/clerk/cases/{case_id}/progress")[1])
        done_pages = sum(d["pages_done"] for d in progress["documents"])
        status = progress["status"]
        if progress["done"]:
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - t0
    return {
        "pages": pages,
        "pages_done": done_pages,
        "case_status": status,
        "seconds": elapsed,
        "seconds_per_page": elapsed / pages,
        "dashboard_requests": len(dashboard),
        "dashboard_p50_ms": 1000 * statistics.median(dashboard),
        "dashboard_p95_ms": 1000 * percentile(dashboard, 95),
        "dashboard_max_ms": 1000 * max(dashboard),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--scan-limit", type=float, default=1800, help="seconds to wait for the scans")
    parser.add_argument("--skip-scans", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="madoguchi-bench-") as tmp:
        data_dir = Path(tmp)
        port = free_port()
        server = start_server(data_dir, port)
        try:
            tokens = [api_token(data_dir) for _ in range(args.clients)]

            def report(api: dict[str, float], what: str) -> None:
                verdict = "OK" if api["p95_ms"] < 300 else "over target"
                print(f"POST /api/v1/extract, one-page text-layer PDF, {what}, {args.clients} clients, "
                      f"{api['requests']} requests:")
                print(f"  p50 {api['p50_ms']:.0f} ms  p95 {api['p95_ms']:.0f} ms  max {api['max_ms']:.0f} ms  "
                      f"{api['rps']:.1f} req/s  (target p95 < 300 ms: {verdict})")

            for distinct, what in ((False, "the same file again"), (True, "a different file each time")):
                report(bench_api(port, tokens, args.clients, args.requests, distinct), what)
            if not args.skip_scans:
                clerk, case_id, t0 = start_scans(port, args.pages)
                before = pages_read(clerk, case_id)
                api = bench_api(port, tokens, args.clients, args.requests, True)
                after = pages_read(clerk, case_id)
                report(api, f"a different file each time WHILE {args.pages} scanned pages are read "
                            f"(pages {before}→{after} read during the run)")
                scans = finish_scans(clerk, case_id, t0, args.pages, args.scan_limit)
                print(f"{scans['pages']} scanned pages uploaded at once: {scans['pages_done']}/{scans['pages']} read, "
                      f"case {scans['case_status']}, {scans['seconds']:.0f} s ({scans['seconds_per_page']:.1f} s/page)")
                print(f"  dashboard meanwhile: {scans['dashboard_requests']} loads, "
                      f"p50 {scans['dashboard_p50_ms']:.0f} ms p95 {scans['dashboard_p95_ms']:.0f} ms "
                      f"max {scans['dashboard_max_ms']:.0f} ms")
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
