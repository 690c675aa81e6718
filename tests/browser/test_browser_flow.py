"""The clerk's whole workflow in a real headless Chromium against ``madoguchi serve`` (waitress
and its supervised Celery workers with the filesystem broker, SQLite, the real OCR and LibreOffice):

log in as admin with the printed password → change it (nothing else opens before) → add an
approver → upload a scanned 様式第1号 → wait for the reading → type a field the reading did not
find, correct two read ones, confirm one → log in as the approver → approve: the page asks to
confirm the unmet requirement, the approver confirms → download the PDF 承認書. Then the
supplier's web form on a 390 px phone screen, with its error messages.

Screenshots of each step are saved in ``artifacts/browser/``.
"""

from __future__ import annotations

import io
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
GOLDEN = ROOT / "samples" / "golden" / "form1_wagyu.pdf"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ADMIN_PASSWORD = "browser-test-admin-1"
NEW_ADMIN_PASSWORD = "river-maple-lantern-7"
APPROVER_PASSWORD = "browser-test-approver-1"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
        reason="Debian's chromium and chromium-driver are not installed",
    ),
]


def scanned_sample(out: Path) -> Path:
    """様式第1号 as from a scanner: the golden PDF at 200 dpi, grey, turned 0.6°, with noise."""
    from PIL import Image

    from extract.pdftoppm import render_pages

    (page,) = render_pages(GOLDEN, [1], dpi=200, gray=True)
    page = page.rotate(0.6, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    rng = random.Random(7)
    noise = Image.effect_noise(page.size, 12).point(lambda v: v - 128)
    pixels = page.load()
    speck = noise.load()
    for _ in range(4000):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        pixels[x, y] = max(0, min(255, pixels[x, y] + speck[x, y] * 4))
    path = out / "scan-form1.png"
    page.save(path, dpi=(200, 200))
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ)
    env.update(
        MADOGUCHI_DATA_DIR=str(tmp_path / "var"),
        MADOGUCHI_ADMIN_PASSWORD=ADMIN_PASSWORD,
        MADOGUCHI_WORKER_CONCURRENCY="2",
    )
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(key, None)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "server.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "server.log", ARTIFACTS / "server.log")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", "--lang=ja"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "plugins.always_open_pdf_externally": True,
    })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads  # type: ignore[attr-defined]
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_clerk_workflow_in_chromium(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    d = browser
    wait = WebDriverWait(d, 30)
    shots = iter(range(1, 100))

    def shot(name: str) -> None:
        d.save_screenshot(str(ARTIFACTS / f"{next(shots):02d}-{name}.png"))

    def log_in(user: str, password: str) -> None:
        d.get(server + "/login")
        d.find_element(By.ID, "username").send_keys(user)
        d.find_element(By.ID, "password").send_keys(password + Keys.ENTER)
        wait.until(ec.title_contains("案件一覧"))

    def log_out() -> None:
        d.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
        wait.until(ec.title_contains("ログイン"))

    # 1. the admin logs in with the printed password and must change it before anything else
    d.get(server + "/login")
    d.find_element(By.ID, "username").send_keys("admin")
    d.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD + Keys.ENTER)
    wait.until(ec.title_contains("パスワード変更"))
    assert d.get_cookie("madoguchi_session")["secure"] is True
    d.get(server + "/clerk/upload")
    wait.until(ec.title_contains("パスワード変更"))
    shot("must-change-password")
    d.find_element(By.NAME, "current").send_keys(ADMIN_PASSWORD)
    d.find_element(By.ID, "new-password").send_keys("1234567890ab")
    d.find_element(By.ID, "confirm-password").send_keys("1234567890ab")
    d.find_element(By.ID, "change-password").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash.error")))  # a weak password is refused
    assert "パスワード" in d.find_element(By.CSS_SELECTOR, ".flash.error").text
    shot("weak-password-refused")
    d.find_element(By.NAME, "current").send_keys(ADMIN_PASSWORD)
    d.find_element(By.ID, "new-password").send_keys(NEW_ADMIN_PASSWORD)
    d.find_element(By.ID, "confirm-password").send_keys(NEW_ADMIN_PASSWORD)
    d.find_element(By.ID, "change-password").click()
    wait.until(ec.title_contains("案件一覧"))
    shot("dashboard")

    # 2. … and adds an approver
    d.get(server + "/clerk/admin/users")
    form = d.find_element(By.CSS_SELECTOR, "form[action='/clerk/admin/users']")
    form.find_element(By.NAME, "username").send_keys("kessai")
    form.find_element(By.NAME, "display_name").send_keys("決裁 花子")
    form.find_element(By.NAME, "password").send_keys(APPROVER_PASSWORD)
    Select(form.find_element(By.NAME, "role")).select_by_value("approver")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "kessai"))

    # 3. uploads a scanned application; the page polls the reading's progress and reloads
    scan = scanned_sample(tmp_path)
    d.get(server + "/clerk/upload")
    Select(d.find_element(By.ID, "program")).select_by_value("shibukawa")
    d.find_element(By.ID, "files").send_keys(str(scan))
    wait.until(ec.text_to_be_present_in_element((By.ID, "chosen"), "scan-form1.png"))
    shot("upload")
    d.find_element(By.ID, "upload-button").click()
    wait.until(ec.url_matches(r"/clerk/cases/\d+$"))
    case_url = d.current_url
    shot("processing")
    WebDriverWait(d, 240).until(ec.presence_of_element_located((By.CSS_SELECTOR, "a.review-link")))
    assert "確認待ち" in d.find_element(By.ID, "case-status").text
    shot("case-read")

    # 4. reviews the fields beside the page image: every declared field is there, those the
    #    reading did not find empty (未読取); types one of them, corrects two, confirms one
    d.find_element(By.CSS_SELECTOR, "a.review-link").click()
    wait.until(ec.presence_of_element_located((By.ID, "fields-form")))
    image = d.find_element(By.CSS_SELECTOR, "svg image")
    assert d.execute_script("return arguments[0].getBBox().width", image) > 0
    assert d.find_elements(By.CSS_SELECTOR, "rect.box")
    unread = d.find_elements(By.CSS_SELECTOR, "tr.field.unread input[id^='f-']:not([type])")
    assert unread, "the reading found every field: nothing to type in"
    typed_key = unread[0].get_attribute("id")[2:]
    field = d.find_element(By.ID, "f-product_name")
    field.click()  # focusing a field highlights its box on the page image
    assert d.find_elements(By.CSS_SELECTOR, "rect.box.active[data-key='product_name']")
    shot("review")
    unread[0].send_keys("窓口で聞き取り")
    field.clear()
    field.send_keys("上州和牛すき焼きセット 特選")
    donation = d.find_element(By.ID, "f-donation_amount")
    donation.clear()
    donation.send_keys("1000")  # so low that the return ratio is not met: the approver is warned
    confirm = d.find_elements(By.CSS_SELECTOR, "tr.field:not(.unread) input[name='confirm']")
    confirmed_key = confirm[0].get_attribute("value")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", confirm[0])
    confirm[0].click()
    shot("review-typed")
    d.find_element(By.ID, "save").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "修正履歴"))
    assert d.find_element(By.ID, "f-product_name").get_attribute("value") == "上州和牛すき焼きセット 特選"
    assert d.find_element(By.ID, f"f-{typed_key}").get_attribute("value") == "窓口で聞き取り"
    row = d.find_element(By.CSS_SELECTOR, f"tr.field[data-key='{confirmed_key}']")
    assert "確認済み" in row.text or "修正済み" in row.text
    shot("corrected")
    log_out()

    # 5. the approver approves: the unmet requirement must be confirmed first, then the notice
    #    is made in the background and offered for download
    log_in("kessai", APPROVER_PASSWORD)
    d.get(case_url)
    assert "⚠ 承認の前に確認してください" in d.find_element(By.ID, "decide-warnings").text
    d.find_element(By.ID, "outcome-approve").click()
    d.find_element(By.ID, "decide").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#decide-warnings[role='alert']")))
    assert "確認のうえ決定してください" in d.find_element(By.TAG_NAME, "main").text
    assert "確認待ち" in d.find_element(By.ID, "case-status").text
    d.execute_script("document.getElementById('decide-warnings').scrollIntoView({block: 'center'})")
    shot("decide-warned")
    d.find_element(By.ID, "confirm-warnings").click()
    if not d.find_element(By.ID, "outcome-approve").is_selected():
        d.find_element(By.ID, "outcome-approve").click()
    shot("decide")
    d.find_element(By.ID, "decide").click()
    link = WebDriverWait(d, 180).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#notices a.notice-file[href$='.pdf']"))
    )
    assert "確認のうえ決定" in d.find_element(By.TAG_NAME, "main").text
    shot("notice-ready")
    link.click()
    deadline = time.monotonic() + 60
    pdfs: list[Path] = []
    while time.monotonic() < deadline:
        pdfs = [p for p in d.downloads.glob("*.pdf")]
        if pdfs and not list(d.downloads.glob("*.crdownload")):
            break
        time.sleep(0.2)
    assert pdfs, "the PDF notice was not downloaded"
    data = pdfs[0].read_bytes()
    assert data.startswith(b"%PDF")
    shutil.copy(pdfs[0], ARTIFACTS / "approval-notice.pdf")
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace(" ", "")
    assert "上州和牛すき焼きセット特選" in text and "承認" in text
    log_out()

    # 6. the supplier's web form on a 390 px phone: nothing wider than the screen, the allergen
    #    grid wrapped; bad values come back with Japanese messages and what was typed
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    d.get(server + "/forms/shibukawa.form1/fill")
    width = d.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    grid = d.find_element(By.CSS_SELECTOR, "fieldset.grid")
    d.execute_script("arguments[0].scrollIntoView({block: 'start'})", grid)
    right = d.execute_script("return arguments[0].getBoundingClientRect().right", grid)
    assert right <= 390
    shot("supplier-390px-allergens")
    d.execute_script("window.scrollTo(0, 0)")
    shot("supplier-390px")
    d.find_element(By.ID, "f-applicant_name").send_keys("株式会社 見本")
    d.find_element(By.ID, "f-contact_phone").send_keys("12-34")
    d.find_element(By.ID, "f-applicant_postal_code").send_keys("37785")
    d.execute_script("document.getElementById('fill-form').noValidate = true")
    d.find_element(By.ID, "make-pdf").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".flash.error")))
    main = d.find_element(By.TAG_NAME, "main").text
    assert "電話番号は市外局番から" in main and "郵便番号は7桁" in main and "必須の項目です" in main
    assert d.find_element(By.ID, "f-applicant_name").get_attribute("value") == "株式会社 見本"
    assert d.execute_script("return document.documentElement.scrollWidth") <= 390
    d.execute_script("document.querySelector('.has-error').scrollIntoView({block: 'center'})")
    shot("supplier-390px-errors")
