"""End to end: the real app served by `streamlit run` on a loopback port, driven by headless
Chromium (Debian's chromium + chromedriver, through selenium): leaderboard -> a case."""
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from lpmbench.leaderboard import streamlit_command
from lpmbench.testing.runs import make_results

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.browser,
    # ~20-45 s (a streamlit server and a browser start): kept in the default run, it is the only end-to-end check of the app
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"headless browser test needs {CHROMIUM} (apt install chromium)"),
    pytest.mark.skipif(not Path(CHROMEDRIVER).exists(), reason=f"needs {CHROMEDRIVER} (apt install chromium-driver)"),
]
selenium = pytest.importorskip("selenium", reason="needs the selenium package (pip install selenium)")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    results = make_results(tmp / "results", n_models=3, n_cases=4, videos=True, size=64, n_frames=8)
    port = free_port()
    cmd = streamlit_command(results, port, headless=True, address="127.0.0.1")
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "LPMBENCH_VOTES": str(tmp / "votes.sqlite")}
    log = open(tmp / "streamlit.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read().strip() == b"ok":
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"streamlit did not start: {(tmp / 'streamlit.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_text(driver, text: str, timeout: float = 60) -> None:
    WebDriverWait(driver, timeout).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)


def test_click_from_leaderboard_to_a_case(server, browser):
    browser.get(server)
    wait_text(browser, "lpmbench leaderboard")
    WebDriverWait(browser, 60).until(EC.presence_of_element_located((By.CSS_SELECTOR, '[data-testid="stDataFrame"]')))
    wait_text(browser, "3 row(s) in 1 protocol(s)")
    assert "Traceback" not in browser.find_element(By.TAG_NAME, "body").text

    # the leaderboard's link to the cases of its top model (synthetic-002 is the best synthetic model)
    link = WebDriverWait(browser, 30).until(EC.element_to_be_clickable((By.PARTIAL_LINK_TEXT, "Open this model's cases")))
    browser.execute_script("arguments[0].scrollIntoView();", link)
    link.click()
    wait_text(browser, "Generated video")
    WebDriverWait(browser, 30).until(lambda d: "run=synthetic-002" in d.current_url)
    assert "Case drill-down" in browser.find_element(By.TAG_NAME, "h1").text

    # pick a case in the "Case" select box (the second one on the page)
    WebDriverWait(browser, 30).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]')) == 2)
    box = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSelectbox"]')[1]
    WebDriverWait(browser, 30).until(lambda d: "case=duplex_03" in d.current_url)  # first case, sorted
    box.click()
    field = box.find_element(By.TAG_NAME, "input")
    field.send_keys("listen_01")
    field.send_keys(Keys.ENTER)
    WebDriverWait(browser, 60).until(lambda d: "case=listen_01" in d.current_url)
    wait_text(browser, "Partner audio (what the character hears)")

    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Agent audio" not in body and "Traceback" not in body  # a listen case: the character is silent
    videos = browser.find_elements(By.TAG_NAME, "video")
    assert len(videos) == 1 and videos[0].get_attribute("src")
    WebDriverWait(browser, 30).until(
        lambda d: any(img.get_attribute("naturalWidth") not in (None, "0")
                      for img in d.find_elements(By.CSS_SELECTOR, '[data-testid="stImage"] img')))
    assert len(browser.find_elements(By.TAG_NAME, "audio")) == 1
    # the metrics table lists the reasons of unavailable metrics (grid cells are in the DOM)
    WebDriverWait(browser, 30).until(lambda d: "no agent speech in this case" in d.page_source)
    # the per-frame curves are drawn by vega-embed
    WebDriverWait(browser, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".vega-embed")) >= 3)
    assert "Chart not drawn" not in browser.find_element(By.TAG_NAME, "body").text
