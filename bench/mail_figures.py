"""Figures for mail intake and the purge (issue 25), printed, never asserted.

- messages taken per second from the inbox folder (the body read by Shika's mail form, the
  message and its two attachments stored, a case made, the attachments queued for the workers:
  their reading is the engine's and is not counted here);
- seconds to purge N ended cases past their period, and the database file before and after
  (a SQLite file is compacted after a purge).

Run: .venv/bin/python bench/mail_figures.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(n: int = 200) -> None:
    import pytest

    from tests.test_mail_intake import shika_iso2022
    from web.app import create_app
    from web.mail_intake import poll_folder
    from web.models import Case, Decision, User
    from web.retention import add_months, purge
    from web.testing import FakeEngine, make_settings

    mp = pytest.MonkeyPatch()
    FakeEngine().install(mp)
    tmp = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    # tasks are queued (in memory, no worker), as the web process queues them for the workers
    app = create_app(make_settings(tmp, celery_eager=False))
    rt = app.extensions["madoguchi"]
    inbox = rt.settings.mail_inbox_path
    inbox.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (inbox / f"{i:05d}.eml").write_bytes(shika_iso2022(f"<bench-{i}@example.jp>"))
    start = time.perf_counter()
    taken = poll_folder(rt)
    took = time.perf_counter() - start
    print(f"intake: {len(taken)} messages (2 attachments each) in {took:.2f} s = {len(taken) / took:.1f} messages/s")

    from sqlalchemy import select

    with rt.db.session() as s:
        admin = s.scalar(select(User).where(User.username == "admin"))
        for case in s.scalars(select(Case)):
            case.status = "rejected"
            s.add(Decision(case_id=case.id, outcome="reject", decided_by=admin.id))
    db_file = rt.settings.data_path / "test.db"
    before = db_file.stat().st_size
    today = add_months(date.today(), 3) + timedelta(days=1)  # the clock set past every period
    start = time.perf_counter()
    result = purge(rt, today)
    took = time.perf_counter() - start
    after = db_file.stat().st_size
    print(f"purge: {result.counts.get('cases', 0)} cases, {result.counts.get('originals', 0)} files, "
          f"{result.counts.get('fields', 0)} fields in {took:.2f} s; database {before / 1024:.0f} KiB -> {after / 1024:.0f} KiB")
    rt.db.dispose()
    mp.undo()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
