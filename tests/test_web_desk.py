# ruff: noqa: F401, F811  -- pytest fixtures imported from web.testing are used as test arguments
"""The desk a clerk expects: the case list filtered, sorted, searched and exported as CSV; a
case's timeline with memos and the clerk in charge; the audit log searched and exported; the
case page in Japanese words (no rule ids, form ids or English errors)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from web.models import AuditEvent, Case, utcnow
from web.testing import FakeEngine, add_user, app, client, engine, login, tiny_pdf


def _upload(client: FlaskClient, token: str, program: str = "shibukawa") -> int:
    resp = client.post("/clerk/upload", data={"program": program, "csrf_token": token,
                                              "files": [(io.BytesIO(tiny_pdf()), "a.pdf")]},
                       content_type="multipart/form-data", headers={"Accept": "application/json"})
    case_id: int = resp.get_json()["cases"][0]
    return case_id


def _ids(html: str) -> list[int]:
    import re

    return [int(m) for m in re.findall(r'href="/clerk/cases/(\d+)"', html)]


def test_case_list_filters_sorts_and_exports(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    a, b, c = (_upload(client, token) for _ in range(3))
    tanaka = add_user(app, "tanaka", "clerk")
    with app.extensions["madoguchi"].db.session() as s:
        s.execute(update(Case).where(Case.id == a).values(applicant_name="有限会社あかぎ", product_name="こんにゃく",
                                                         created_at=utcnow() - timedelta(days=10)))
        s.execute(update(Case).where(Case.id == b).values(assignee_id=tanaka, program_id="tateyama"))
    assert _ids(client.get("/clerk/?sort=id&dir=asc").get_data(as_text=True)) == [a, b, c]
    assert _ids(client.get("/clerk/?sort=id").get_data(as_text=True)) == [c, b, a]
    assert _ids(client.get("/clerk/?q=こんにゃく").get_data(as_text=True)) == [a]
    assert _ids(client.get("/clerk/?q=あかぎ").get_data(as_text=True)) == [a]
    assert _ids(client.get(f"/clerk/?assignee={tanaka}").get_data(as_text=True)) == [b]
    assert sorted(_ids(client.get("/clerk/?assignee=none").get_data(as_text=True))) == [a, c]
    assert _ids(client.get("/clerk/?program=tateyama").get_data(as_text=True)) == [b]
    from datetime import date

    today = date.today().isoformat()
    assert sorted(_ids(client.get(f"/clerk/?from={today}").get_data(as_text=True))) == sorted([b, c])
    earlier = (date.today() - timedelta(days=5)).isoformat()
    assert _ids(client.get(f"/clerk/?to={earlier}").get_data(as_text=True)) == [a]
    assert client.get("/clerk/?from=not-a-date&sort=evil&dir=x").status_code == 200
    resp = client.get("/clerk/cases.csv?q=あかぎ")
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert resp.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["案件番号", "制度", "種別", "事業者", "商品"]
    assert rows[1][0] == str(a) and rows[1][3] == "有限会社あかぎ" and len(rows) == 2
    with app.extensions["madoguchi"].db.session() as s:
        (event,) = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.export"))
        assert event.detail["ids"] == [a]


def test_timeline_memos_and_the_clerk_in_charge(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    case_id = _upload(client, token)
    tanaka = add_user(app, "tanaka", "clerk")
    client.post(f"/clerk/cases/{case_id}/memos", data={"csrf_token": token, "body": "電話で住所を確認済み<script>"})
    client.post(f"/clerk/cases/{case_id}/assign", data={"csrf_token": token, "assignee": str(tanaka)})
    assert client.post(f"/clerk/cases/{case_id}/assign", data={"csrf_token": token, "assignee": "999"}).status_code == 400
    html = client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    timeline = html[html.index('id="timeline"'):html.index('id="memo-form"')]
    assert "書類の取込" in timeline and "読取完了" in timeline and "担当の設定" in timeline
    assert "電話で住所を確認済み&lt;script&gt;" in timeline
    with app.extensions["madoguchi"].db.session() as s:
        assert s.get(Case, case_id).assignee_id == tanaka


def test_the_case_page_speaks_japanese(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    case_id = _upload(client, token)
    with app.extensions["madoguchi"].db.session() as s:
        doc = s.get(Case, case_id).documents[0]
        doc.status, doc.error_code, doc.error_message = "error", "corrupt_file", "a.pdf: the PDF cannot be read (PdfReadError)"
    html = client.get(f"/clerk/cases/{case_id}").get_data(as_text=True)
    assert "ファイルが壊れているため読み取れません" in html and "PdfReadError" not in html
    assert "return_ratio" not in html and "shibukawa.form1" not in html
    assert "返礼品提供申込書（1ページ）" in html
    assert "✖ 不適合" in html


def test_audit_log_search_and_export(app: Flask, client: FlaskClient) -> None:
    token = login(client)
    case_id = _upload(client, token)
    client.get(f"/clerk/cases/{case_id}")
    page = client.get("/clerk/admin/audit?action=案件の表示").get_data(as_text=True)
    assert "案件の表示" in page and "書類の取込" not in page.split("</datalist>")[1]
    page = client.get(f"/clerk/admin/audit?object=案件:{case_id}").get_data(as_text=True)
    assert "案件の表示" in page
    assert "該当する記録はありません" in client.get("/clerk/admin/audit?user=nobody").get_data(as_text=True)
    resp = client.get("/clerk/admin/audit.csv?action=案件の表示")
    assert resp.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[0][0] == "日時" and {r[4] for r in rows[1:]} == {"case.view"}
    # clerks do not see the audit log
    add_user(app, "tanaka", "clerk")
    other = app.test_client()
    login(other, "tanaka", "correct horse battery")
    assert other.get("/clerk/admin/audit.csv").status_code == 403
