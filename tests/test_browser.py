"""End-to-end tests: drive the real dashboard in headless Chromium.

The analyst's path: open the app on its home page, upload a CSV of daily-cycle sales there, click
"Forecast this series", land on the forecast with its verdict in words and its 80 % and 95 %
ranges, download the forecast (time stamps and interval columns checked), and see the run on the
Compare page with the best row of each metric marked.

The researcher's journey: open the Data page and see ETTh1 and its chart; upload a generated CSV
of 300 hourly rows through "Upload a CSV or TSV" and load it; open the Explore page and see the STL
decomposition of the uploaded series; on the Train page, train Time-LLM over a tiny untrained
backbone for one short epoch and watch it finish; see its reprogramming attention on the
Attention page; on the Forecast page see the forecast drawn over the series, forecast past the end
of the data and download the test forecasts as CSV; on the Compare page see the run beside the
naive, seasonal naive and Naive2 baselines and download that table. No Streamlit exception box may
appear at any step, and each step leaves a full-page screenshot in tests/artifacts/ (with the
server's log, streamlit.log).
"""

from __future__ import annotations

import math
import os
import random
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
SERVER_LOG = ARTIFACTS / "streamlit.log"  # the server's output, for when a step fails
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60
STEP_TIMEOUT_MS = 30_000  # one Streamlit rerun, including the first STL, fits well inside this
TRAIN_TIMEOUT_MS = 300_000  # one epoch of Time-LLM over a tiny backbone takes seconds; a busy machine more
UPLOAD_NAME = "browser_hourly_sine.csv"
VERDICT = re.compile(r"(lower error than|Worse than|About as accurate as) (repeating|the M4)")
MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'
EXCEPTION_BOX = '[data-testid="stException"]'
PLOT = ".js-plotly-plot"
RUNNING_INDICATOR = '[data-testid="stStatusWidgetRunningIcon"], [data-testid="stStatusWidgetRunningManIcon"]'


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(base_url: str, server: subprocess.Popen, timeout_s: float) -> None:
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, always
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {server.returncode}; see {SERVER_LOG}")
        try:
            with no_proxy.open(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"streamlit did not answer {base_url}/_stcore/health within {timeout_s} s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """Start `streamlit run streamlit_app.py` on a free loopback port; yield its base URL."""
    runs_dir = tmp_path_factory.mktemp("runs")  # this server's run store, not the user's runs/
    port = free_loopback_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "streamlit_app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "FORECAST_RUNS_DIR": str(runs_dir)}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with SERVER_LOG.open("w") as log:
        server = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_health(base_url, server, SERVER_START_TIMEOUT_S)
            yield base_url
        finally:
            stop(server)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def hourly_csv(tmp_path: Path) -> Path:
    """300 hourly rows: a daily sine plus a little noise, in columns date,value."""
    rng = random.Random(7)
    lines = ["date,value"]
    for hour in range(300):
        day, hour_of_day = divmod(hour, 24)
        value = 10 + 3 * math.sin(2 * math.pi * hour / 24) + rng.gauss(0, 0.3)
        lines.append(f"2024-01-{day + 1:02d} {hour_of_day:02d}:00:00,{value:.4f}")
    path = tmp_path / UPLOAD_NAME
    path.write_text("\n".join(lines) + "\n")
    return path


def screenshot(page, name: str) -> None:
    """A screenshot of the whole page, top to bottom, into tests/artifacts/.

    Streamlit scrolls its main area inside the page, so `full_page=True` alone would capture only
    the viewport: the viewport is stretched to the main area's height for the shot, then restored.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    main_height = page.locator(MAIN).evaluate("main => { main.scrollTop = 0; return main.scrollHeight; }")
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], main_height)})
    try:
        page.wait_for_timeout(500)  # let the charts settle after the resize
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)
    finally:
        page.set_viewport_size(viewport)


def wait_until_idle(page) -> None:
    """Wait until Streamlit has no script run in progress (its running indicator is gone).

    Only the running icons count: the same status widget also offers "Rerun" when a source file
    changes, which happens while others edit the project and says nothing about this session.
    """
    page.wait_for_selector(RUNNING_INDICATOR, state="detached")


def assert_visible(locator) -> None:
    """Playwright's `expect` waits 5 s by default; a cold first load of ETTh1 alone can take that long."""
    sync_api.expect(locator).to_be_visible(timeout=STEP_TIMEOUT_MS)


def assert_no_exception(page) -> None:
    boxes = page.locator(EXCEPTION_BOX)
    assert boxes.count() == 0, f"Streamlit exception shown: {boxes.first.inner_text()}"


def choose(page, label: str, option: str) -> None:
    """Pick `option` in the Streamlit select box labelled `label`.

    A rerun still drawing the page can replace the box just after it opened, closing its list; the
    list is then opened again, up to three times, rather than waited on for ever.
    """
    for attempt in range(3):
        wait_until_idle(page)
        page.locator(MAIN).get_by_label(label, exact=True).click()
        try:
            page.get_by_role("option", name=option).first.click(timeout=STEP_TIMEOUT_MS // 3)
            return
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")


def type_number(page, label: str, value: int) -> None:
    box = page.locator(MAIN).get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")


def set_sidebar_number(page, label: str, value: int) -> None:
    box = page.locator(SIDEBAR).get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_until_idle(page)


def download_lines(page, button: str) -> list[str]:
    """Click the download button labelled `button` and return the downloaded file's lines."""
    with page.expect_download() as download:
        page.locator(MAIN).get_by_role("button", name=button).click()
    return Path(download.value.path()).read_text().splitlines()


def go_to(page, name: str) -> None:
    """Open a page through the sidebar's own links."""
    page.locator(SIDEBAR).get_by_role("link", name=name, exact=True).click()


def choose_sidebar(page, label: str, option: str) -> None:
    page.locator(SIDEBAR).get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).first.click()
    wait_until_idle(page)


def test_the_whole_journey(app_url, page, hourly_csv):
    main = page.locator(MAIN)
    sidebar = page.locator(SIDEBAR)

    # 1. The Data page with the default data set, ETTh1, and its chart.
    page.goto(app_url)
    assert_visible(main.get_by_role("heading", name="1. Load a series"))
    go_to(page, "Data")
    assert_visible(main.get_by_role("heading", name="Data", exact=True))
    assert_visible(main.locator(PLOT).get_by_text("ETTh1", exact=True).first)  # the chart's title
    assert_visible(main.locator(PLOT).first)
    assert_visible(sidebar.get_by_text("Data set: ETTh1"))
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "01_data_etth1.png")

    # 2. Upload a CSV and load it.
    main.get_by_text("Upload a CSV or TSV").click()
    file_input = main.locator('[data-testid="stFileUploader"] input[type="file"]')
    file_input.set_input_files(str(hourly_csv))
    load_button = main.get_by_role("button", name="Load this series")
    assert_visible(load_button)
    assert_no_exception(page)
    load_button.click()
    assert_visible(sidebar.get_by_text(f"Data set: {UPLOAD_NAME}"))
    assert_visible(main.get_by_text(f"Loaded '{UPLOAD_NAME}'."))
    assert_visible(main.locator(PLOT).get_by_text(UPLOAD_NAME, exact=True).first)  # the chart's title
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "02_uploaded.png")

    # 3. The Explore page: STL of the uploaded series.
    go_to(page, "Explore")
    assert_visible(main.get_by_role("heading", name="Seasonal-trend decomposition (STL)"))
    assert_visible(main.locator(PLOT).get_by_text(f"{UPLOAD_NAME}: value", exact=True).first)
    assert_visible(main.get_by_text("Strength of seasonality", exact=True))
    assert_visible(sidebar.get_by_text(f"Data set: {UPLOAD_NAME}"))
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "03_explore.png")

    set_sidebar_number(page, "Look-back (steps)", 48)
    choose_sidebar(page, "Horizon", "next 12 hours")

    # 4. The Train page: Time-LLM over a tiny untrained backbone, one short epoch, on the upload.
    go_to(page, "Train")
    assert_visible(main.get_by_role("heading", name="Train", exact=True))
    choose(page, "Model", "Time-LLM — a language model reads the series")
    main.get_by_text("Advanced settings").click()
    assert_visible(main.get_by_text("Scaled for this CPU"))
    choose(page, "backbone", "tiny Llama, untrained")
    for label, value in (("layers", 2), ("n prototypes", 40), ("Epochs", 1), ("Batch size", 32)):
        type_number(page, label, value)
    main.get_by_role("button", name="Launch training").click()
    assert_visible(
        main.get_by_text(f"Time-LLM on {UPLOAD_NAME}: running").or_(
            main.get_by_text(f"Time-LLM on {UPLOAD_NAME}: succeeded")
        )
    )
    screenshot(page, "04_training.png")
    sync_api.expect(main.get_by_text(f"Time-LLM on {UPLOAD_NAME}: succeeded")).to_be_visible(
        timeout=TRAIN_TIMEOUT_MS
    )
    assert_visible(main.get_by_text("Research protocol, standardised values"))
    assert_no_exception(page)
    screenshot(page, "05_trained.png")

    # 5. The Attention page: patches x prototypes for the run just trained, with its prompt.
    go_to(page, "Attention")
    assert_visible(main.get_by_role("heading", name="Attention", exact=True))
    assert_visible(main.get_by_text("is untrained (random weights)"))
    assert_visible(main.locator(PLOT).first)
    sync_api.expect(main.locator('[data-testid="stCode"]').first).to_contain_text(
        "Task: forecast the next 12 steps"
    )
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "06_attention.png")

    # 6. The Forecast page: the verdict, the forecast past the end, the past forecasts as CSV.
    go_to(page, "Forecast")
    assert_visible(main.get_by_role("heading", name="Forecast", exact=True))
    assert_visible(main.get_by_text(VERDICT).first)
    on_request = main.get_by_role("button", name="Forecast past the end")
    if on_request.count():  # a large model forecasts ahead on request; a small one as the page opens
        on_request.click()
    assert_visible(main.get_by_role("button", name="(CSV, with its ranges)"))
    main.get_by_text("The past forecasts it was checked on (test part)", exact=True).click()
    lines = download_from(page, main.get_by_role("button", name="Download as CSV"))
    assert lines[0] == "window,step,timestamp,channel,actual,forecast,lower_80,upper_80,lower_95,upper_95"
    assert len(lines) == 1 + 49 * 12  # 49 test windows of the 300 rows, 12 steps, one channel
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "07_forecast.png")

    # 7. The Compare page: the run beside the three baselines, the same windows, exported as CSV.
    go_to(page, "Compare")
    assert_visible(main.get_by_role("heading", name="Compare", exact=True))
    assert_visible(main.get_by_text("49 test windows of 49, the same for every row"))
    assert_visible(main.locator(PLOT).first)
    table = download_lines(page, "Download the table (CSV)")
    rows = [line.split(",")[0] for line in table[1:]]
    assert rows[:3] == ["naive", "Naive2", "seasonal naive"] and rows[3].startswith(
        f"Time-LLM on {UPLOAD_NAME}"
    )
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "08_compare.png")


ANALYST_UPLOAD = "shop_sales.csv"
ONE_CLICK_TIMEOUT_MS = 180_000  # a few learning rates of DLinear on 1,500 rows, then the stored run


@pytest.fixture
def sales_csv(tmp_path: Path) -> Path:
    """1,500 hourly rows of sales in pounds: a daily cycle, a slow rise and noise."""
    rng = random.Random(11)
    lines = ["date,sales (£)"]
    for hour in range(1500):
        day, hour_of_day = divmod(hour, 24)
        stamp = time.strftime("%Y-%m-%d %H:00:00", time.gmtime(1704067200 + 3600 * hour))
        value = 120 + 30 * math.sin(2 * math.pi * hour_of_day / 24) + day * 0.2 + rng.gauss(0, 4)
        lines.append(f"{stamp},{value:.2f}")
    path = tmp_path / ANALYST_UPLOAD
    path.write_text("\n".join(lines) + "\n")
    return path


def download_from(page, locator) -> list[str]:
    with page.expect_download() as download:
        locator.click()
    return Path(download.value.path()).read_text().splitlines()


def test_the_analyst_path_from_a_csv_to_a_judged_forecast(app_url, page, sales_csv):
    main = page.locator(MAIN)
    sidebar = page.locator(SIDEBAR)

    # 1. The home page: what the app does and three steps; no raw list of page files anywhere.
    page.goto(app_url)
    assert_visible(main.get_by_role("heading", name="1. Load a series"))
    assert_visible(main.get_by_role("heading", name="2. Get a forecast"))
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "analyst_01_home.png")

    # 2. Upload the CSV right there.
    main.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(sales_csv))
    assert_visible(main.get_by_text(f"Loaded: {ANALYST_UPLOAD}"))
    assert_visible(sidebar.get_by_text(f"Data set: {ANALYST_UPLOAD}"))
    assert_visible(main.get_by_text("The forecast is of sales (£)"))
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "analyst_02_uploaded.png")

    # 3. One click: it trains, then lands on the Forecast page with the verdict in words.
    main.get_by_role("button", name="Forecast this series").click()
    sync_api.expect(main.get_by_role("heading", name="Forecast", exact=True)).to_be_visible(
        timeout=ONE_CLICK_TIMEOUT_MS
    )
    verdict = main.get_by_text(VERDICT).first
    assert_visible(verdict)
    assert_visible(main.get_by_text("Typical error", exact=True))
    assert_visible(main.get_by_text("£").first)  # errors in the series' own units
    assert_visible(main.locator(PLOT).get_by_text("80% range").first)  # the bands, in the legend
    assert_visible(main.locator(PLOT).get_by_text("95% range").first)
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "analyst_03_forecast.png")

    # 4. Downloads: the forecast ahead with its dates and ranges; past forecasts with time stamps.
    ahead = download_from(page, main.get_by_role("button", name="(CSV, with its ranges)"))
    assert ahead[0] == "timestamp,channel,forecast,lower_80,upper_80,lower_95,upper_95"
    assert ahead[1].startswith("2024-03-03 12:00:00,sales (£),")  # the hour after the last row
    main.get_by_text("The past forecasts it was checked on (test part)", exact=True).click()
    past = download_from(page, main.get_by_role("button", name="Download as CSV"))
    assert past[0] == "window,step,timestamp,channel,actual,forecast,lower_80,upper_80,lower_95,upper_95"
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "analyst_04_downloads.png")

    # 5. Compare: the run beside the baselines, the best row of each metric marked.
    sidebar.get_by_role("link", name="Compare").click()
    assert_visible(main.get_by_role("heading", name="Compare", exact=True))
    assert_visible(main.get_by_text("Best MASE:"))
    assert_visible(main.get_by_text("the best row of each is in bold on green"))
    wait_until_idle(page)
    assert_no_exception(page)
    screenshot(page, "analyst_05_compare.png")
