"""Page speed for the foundation bench: each page's first render and the slow interactions, each
beside a page that does nothing (bench/empty_page.py) timed the same way in the same run.

Run by `bench/bench_foundation.py` (alone: `--part pages`, which merges its section `pages` into
bench/results/foundation.json and keeps the rest). Target (the issue): at most 2 s for every page's
first render and every interaction below, with ETTh1 and with ETTh2-sized data.

Under Streamlit's AppTest (`streamlit.testing.v1`), ETTh1 (17,420 hourly rows) and ETTh2 (ETDataset's
`ETT-small/ETTh2.csv`, the same size), both bundled in data/ (--etth2 names another copy of ETTh2);
ETTh2 is built as ETTh1 is and put in the session as a loaded data set:
- cold: a fresh Python process, timed from before `import streamlit` to the end of the first run,
  opened at the page (a server's first visitor opening that page's address);
- first visit: a fresh process that has drawn the home page once (untimed), and has finished what
  it started in the background then (the threads it started, waited for), switches to the page:
  what the first visitor of that page waits for on a running server once they have read the home
  page, with the page's own imports and uncached work (for ETTh2, the data set is loaded between
  the two, as an upload on the home page);
- again: a new session opened at the page in that warm process (the caches filled), the median;
- rerun: the page run again with nothing changed, the median;
- interactions, in the first-visit process: a new STL cycle length on Explore (168, 48 then 12
  steps, each not cached yet), and every other model chosen in turn on Train.
The Forecast, Attention and Compare pages open a run store of two quick runs trained here (DLinear
and StemGNN, one epoch each, from their starting settings on ETTh1; FORECAST_RUNS_DIR), the
Forecast page on the DLinear run. Every figure is the median over `repeats` processes, which take
turns case by case so that a change of load falls on all of them; the one-minute load average is
recorded at each process's start, and before and after the whole part.

In a real browser (Playwright's Chromium, /usr/bin/chromium): `streamlit run streamlit_app.py` on
a free port, started and answering its health check, then timed from the navigation to the home
page's "1. Load a series" header being visible (the server's first visitor: the app's imports
included), then, once the server is idle again, a second visitor the same way; the same for
`streamlit run bench/empty_page.py` and its header. A new server each repeat. Left out (null) where
Chromium or Playwright is missing.

Everything above the workers imports the standard library only: a cold process starts its clock
before it imports anything else.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "streamlit_app.py"
EMPTY = ROOT / "bench" / "empty_page.py"
ETTH2 = ROOT / "data" / "ETTh2.csv"
ETTH2_SOURCE = "zhouhaoyi/ETDataset, ETT-small/ETTh2.csv (CC BY-ND 4.0), unmodified"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
TARGET_S = 2.0
RUN_TIMEOUT_S = 300  # one AppTest script run, on a loaded machine
PROCESS_TIMEOUT_S = 1200
HOME_HEADING = "1. Load a series"
EMPTY_HEADING = "A page that does nothing"

PAGES = {
    "home": "pages/home.py",
    "data": "pages/data.py",
    "explore": "pages/explore.py",
    "train": "pages/train.py",
    "forecast": "pages/forecast.py",
    "attention": "pages/attention.py",
    "compare": "pages/compare.py",
}
# (page, data): each page on ETTh1, and Explore on ETTh2 as well.
CASES = [(page, "ETTh1") for page in PAGES] + [("explore", "ETTh2")]
STL_PERIODS = (168, 48, 12)
STORED_RUNS = (("dlinear", {"epochs": 1}), ("stemgnn", {"epochs": 1, "batch_size": 256}))

WORKER = """
import sys, time
start = time.perf_counter()
sys.path.insert(0, {root!r})
from bench.page_timings import worker
worker(start, {job!r})
"""


# ------------------------------------------------------------------------------- in the subprocess


def settle(before: set, limit_s: float = 120.0) -> float:
    """Wait until the threads started since `before` was taken have ended (what the app started in
    the background after a page was drawn); the seconds waited."""
    began = time.perf_counter()
    for thread in set(threading.enumerate()) - before:
        thread.join(max(0.0, limit_s - (time.perf_counter() - began)))
    return time.perf_counter() - began


def worker(start: float, job: dict) -> None:
    """One process's measurements (`job["mode"]`: "cold" or "visit"), printed as one JSON line."""
    from streamlit.testing.v1 import AppTest

    load = os.getloadavg()[0]
    page = job["page"]
    dataset, dataset_s = None, 0.0
    if job["dataset"]:  # the app imports these on its first run anyway; the empty page never does
        from pages import common

        # Read from its CSV (never a pickle). The reading itself is not the page's cost: a user's
        # upload is already in the session, so its seconds are taken off the cold figure.
        began = time.perf_counter()
        dataset = etth2_dataset(Path(job["dataset"]))
        dataset_s = time.perf_counter() - began

    def check(at) -> None:
        if at.exception:
            raise RuntimeError(f"{page or 'the empty page'}: {at.exception[0].message}")

    def opened() -> AppTest:
        """A new session at the page, with this case's session state."""
        at = AppTest.from_file(str(APP if page else EMPTY), default_timeout=RUN_TIMEOUT_S)
        for key, value in job["state"].items():
            at.session_state[key] = value
        if dataset is not None:
            at.session_state[common.DATASET_KEY] = dataset
            at.session_state[common.NOTES_KEY] = []
        if page:
            at.switch_page(PAGES[page])
        return at

    def timed(action) -> float:
        began = time.perf_counter()
        action()
        return time.perf_counter() - began

    out: dict = {"load_1min": load}
    threads = set(threading.enumerate())
    if job["mode"] == "cold":
        at = opened()
        at.run()
        out["cold_s"] = time.perf_counter() - start - dataset_s
        check(at)
        out["settled_s"] = settle(threads)
        again = []
        for _ in range(job["repeats"]):
            at = opened()
            again.append(timed(at.run))
            check(at)
        out["again_s"] = again
    else:
        if page:
            at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
            for key, value in job["state"].items():
                at.session_state[key] = value
            at.run()  # the home page, with ETTh1: the server is running
            check(at)
            out["settled_s"] = settle(threads)
            if dataset is not None:  # loaded on the home page, as an upload would be
                at.session_state[common.DATASET_KEY] = dataset
                at.session_state[common.NOTES_KEY] = []
            out["first_visit_s"] = timed(lambda: at.switch_page(PAGES[page]).run())
        else:
            at = AppTest.from_file(str(EMPTY), default_timeout=RUN_TIMEOUT_S)
            at.run()
            out["settled_s"] = settle(threads)
            out["first_visit_s"] = timed(at.run)
        check(at)
        out["rerun_s"] = [timed(at.run) for _ in range(job["repeats"])]
        check(at)
        out["interactions"] = interactions(at, page, timed, check)
    print(json.dumps(out))


def interactions(at, page: str | None, timed, check) -> dict[str, dict[str, float]]:
    """{action: {value: seconds}} for the page's slow interactions, each value new to its caches."""
    if page == "explore":
        key = next(n.key for n in at.number_input if n.key.startswith("period_"))
        times = {}
        for period in STL_PERIODS:
            times[str(period)] = timed(lambda p=period: at.number_input(key=key).set_value(p).run())
            check(at)
            if len(at.metric) != 2:
                raise RuntimeError(f"Explore drew no STL strengths at period {period}")
        return {"stl_period": times}
    if page == "train":
        from core.models.registry import MODELS

        box = at.selectbox(key="model")
        times = {}
        for name in [name for name in MODELS if name != box.value]:
            times[name] = timed(lambda n=name: at.selectbox(key="model").set_value(n).run())
            check(at)
        return {"model": times}
    return {}


# ----------------------------------------------------------------------------------- in the parent


def median(values) -> float:
    return float(statistics.median(values))


def load_average() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"1min": one, "5min": five, "15min": fifteen}


def run_worker(job: dict, env: dict) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", WORKER.format(root=str(ROOT), job=job)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT_S,
    )
    if completed.returncode:
        raise RuntimeError(f"{job['mode']} {job['page']}: {completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def etth2_dataset(path: Path):
    """ETTh2 built as the bundled ETTh1 is (core.datasets): read, suggested mapping, named."""
    from core.ingest import build_dataset, read_table, suggest_mapping

    table = read_table(path.read_bytes(), max_bytes=None)
    return build_dataset(table, suggest_mapping(table), "ETTh2", description="", source=ETTH2_SOURCE)


def train_stored_runs(folder: Path) -> list[dict]:
    """Quick runs from their starting settings on ETTh1 into the store at `folder`."""
    from core.datasets import load_builtin
    from core.runs.spec import starting_spec, with_changes
    from core.runs.store import RunStore
    from core.training.runner import run_training

    dataset = load_builtin("ETTh1")
    store = RunStore(folder)
    runs = []
    for model, train in STORED_RUNS:
        spec = with_changes(starting_spec(model, dataset_name="ETTh1", freq=dataset.freq), {}, train, {})
        started = time.perf_counter()
        outcome = run_training(spec, dataset, store)
        runs.append(
            {
                "model": model,
                "id": outcome.run_id,
                "features": spec.features,
                "look_back": spec.seq_len,
                "horizon": spec.pred_len,
                "epochs": outcome.epochs_run,
                "batch_size": spec.train.batch_size,
                "train_s": time.perf_counter() - started,
            }
        )
    store.close()
    return runs


def app_timings(repeats: int, etth2: Path, runs_dir: Path, scratch: Path) -> dict:
    """AppTest figures for the empty page and every case, `repeats` processes each, in turns."""
    runs = train_stored_runs(runs_dir)
    dataset = etth2_dataset(etth2)  # fails here, once, if the file cannot be read
    env = dict(os.environ, HF_HUB_OFFLINE="1", FORECAST_RUNS_DIR=str(runs_dir))

    from pages import common

    def job(mode: str, page: str | None, data: str) -> dict:
        state = {common.SELECTED_RUN_KEY: runs[0]["id"]} if page == "forecast" else {}
        path = str(etth2) if data == "ETTh2" else None
        return {"mode": mode, "page": page, "state": state, "dataset": path, "repeats": repeats}

    keys = [(None, "ETTh1"), *CASES]
    samples: dict[tuple, list[dict]] = {key: [] for key in keys}
    for turn in range(repeats):
        for page, data in keys:
            cold = run_worker(job("cold", page, data), env)
            visit = run_worker(job("visit", page, data), env)
            both = cold | visit | {"load_1min": [cold["load_1min"], visit["load_1min"]]}
            samples[(page, data)].append(both)
            print(f"turn {turn + 1}/{repeats} {page or 'empty'} {data}: {json.dumps(both)}", flush=True)

    def summary(page, data) -> dict:
        done = samples[(page, data)]
        entry = {
            "page": page or "empty",
            "data": data,
            "cold_s": median([s["cold_s"] for s in done]),
            "first_visit_s": median([s["first_visit_s"] for s in done]),
            "again_s": median([t for s in done for t in s["again_s"]]),
            "rerun_s": median([t for s in done for t in s["rerun_s"]]),
            "load_1min": [load for s in done for load in s["load_1min"]],
            "settled_s": [s["settled_s"] for s in done],
            "samples": {
                "cold_s": [s["cold_s"] for s in done],
                "first_visit_s": [s["first_visit_s"] for s in done],
            },
        }
        return entry

    reference = summary(None, "ETTh1") | {"data": None}
    cases = []
    for page, data in CASES:
        entry = summary(page, data)
        entry["judged"] = "cold_s" if page == "home" else "first_visit_s"
        entry["ratio"] = {
            key: entry[key] / reference[key] for key in ("cold_s", "first_visit_s", "again_s", "rerun_s")
        }
        cases.append(entry)
    actions = []
    for page, data in CASES:
        for action in samples[(page, data)][0]["interactions"]:
            values = list(samples[(page, data)][0]["interactions"][action])
            times = {
                value: median([s["interactions"][action][value] for s in samples[(page, data)]])
                for value in values
            }
            slowest = max(times, key=times.get)
            actions.append(
                {
                    "page": page,
                    "data": data,
                    "action": action,
                    "times_s": times,
                    "median_s": median(times.values()),
                    "slowest": slowest,
                    "slowest_s": times[slowest],
                    "ratio": {
                        "median_s": median(times.values()) / reference["rerun_s"],
                        "slowest_s": times[slowest] / reference["rerun_s"],
                    },
                }
            )
    return {
        "reference": reference,
        "cases": cases,
        "interactions": actions,
        "stored_runs": runs,
        "etth2": {
            "file": etth2.name,
            "sha256": hashlib.sha256(etth2.read_bytes()).hexdigest(),
            "rows": len(dataset.frame),
            "channels": len(dataset.channels),
            "source": ETTH2_SOURCE,
        },
    }


# ------------------------------------------------------------------------------------- the browser


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(url: str, server: subprocess.Popen, timeout_s: float = 120) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {server.returncode}")
        try:
            with opener.open(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"streamlit did not answer {url}/_stcore/health within {timeout_s} s")


def server_settle(pid: int, limit_s: float = 120.0) -> float:
    """Wait until the server process uses under 5 % of a core over half a second (what it started
    after a page, such as imports in the background, has finished); the seconds waited."""
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return 0.0

    def cpu_s() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    began = time.perf_counter()
    while time.perf_counter() - began < limit_s:
        used = cpu_s()
        time.sleep(0.5)
        if cpu_s() - used < 0.025:
            break
    return time.perf_counter() - began


def one_server(chromium, script: Path, heading: str, env: dict, log: Path) -> dict:
    """Start a server for `script`; time a first and a second visitor until `heading` is visible."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", str(script.relative_to(ROOT))]
    command += ["--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--browser.gatherUsageStats", "false"]
    with log.open("a") as output:
        started = time.perf_counter()
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_for_health(url, server)
            out = {"server_start_s": time.perf_counter() - started}
            for visitor in ("first_s", "second_s"):
                if visitor == "second_s":
                    out["settled_s"] = server_settle(server.pid)
                context = chromium.new_context(viewport={"width": 1400, "height": 1000})
                try:
                    page = context.new_page()
                    began = time.perf_counter()
                    page.goto(url)
                    page.get_by_role("heading", name=heading).wait_for(state="visible", timeout=180_000)
                    out[visitor] = time.perf_counter() - began
                    if page.locator('[data-testid="stException"]').count():
                        raise RuntimeError(f"{script.name} showed an exception")
                finally:
                    context.close()
            return out
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def browser_timings(repeats: int, runs_dir: Path, scratch: Path) -> dict | None:
    """The home page's first render from a cold server, in Chromium, against the empty page's."""
    if not CHROMIUM.exists():
        print(f"no browser timings: {CHROMIUM} is not installed")
        return None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("no browser timings: Playwright is not installed")
        return None
    env = dict(os.environ, HF_HUB_OFFLINE="1", FORECAST_RUNS_DIR=str(runs_dir))
    apps = {"reference": (EMPTY, EMPTY_HEADING), "app": (APP, HOME_HEADING)}
    samples: dict[str, list[dict]] = {name: [] for name in apps}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for turn in range(repeats):
                for name, (script, heading) in apps.items():
                    load = os.getloadavg()[0]
                    result = one_server(chromium, script, heading, env, scratch / "streamlit.log")
                    samples[name].append(result | {"load_1min": load})
                    print(f"browser turn {turn + 1}/{repeats} {name}: {json.dumps(samples[name][-1])}")
        finally:
            chromium.close()

    def summary(name: str) -> dict:
        done = samples[name]
        return {
            "heading": apps[name][1],
            "script": str(apps[name][0].relative_to(ROOT)),
            **{key: median([s[key] for s in done]) for key in ("server_start_s", "first_s", "second_s")},
            "load_1min": [s["load_1min"] for s in done],
            "settled_s": [s["settled_s"] for s in done],
            "samples": {key: [s[key] for s in done] for key in ("first_s", "second_s")},
        }

    app, reference = summary("app"), summary("reference")
    app["ratio"] = {key: app[key] / reference[key] for key in ("first_s", "second_s")}
    app["judged"] = "first_s"
    return {"app": app, "reference": reference}


def page_speed(repeats: int = 3, etth2: Path = ETTH2) -> dict:
    """The section `pages` of foundation.json."""
    if not etth2.exists():
        raise SystemExit(f"{etth2} is not there: pass --etth2 with a copy of ETDataset's ETTh2.csv")
    before = load_average()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        runs_dir = scratch / "runs"
        runs_dir.mkdir()
        app = app_timings(repeats, etth2, runs_dir, scratch)
        browser = browser_timings(repeats, runs_dir, scratch)
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "date": time.strftime("%Y-%m-%d"),
        "protocol": "AppTest: cold = a fresh process from before importing streamlit to its first run "
        "at the page; first visit = a fresh process that drew the home page, and waited for the threads it "
        "started then, switches to the page; "
        "again = a new session at the page in that process; rerun = the page run again unchanged; "
        "interactions in the first-visit process, each value new to the caches. Browser: Chromium, "
        "from the navigation to the header being visible, a new server each time, the second visitor once it "
        "is idle. Medians; ratios "
        "against bench/empty_page.py timed the same way in the same run.",
        "target_s": TARGET_S,
        "repeats": repeats,
        "platform": platform.platform(),  # the file's `machine` describes the other parts' run
        "cpu_count": os.cpu_count(),
        "load_before": before,
        "load_after": load_average(),
        **app,
        "browser": browser,
    }
