#!/usr/bin/env bash
# A separate virtual environment for neuralforecast 3.3.0, for bench/bench_time_llm_vs_neuralforecast.py.
#
# .venv-nf sees every package of the project's .venv (torch 2.13.0+cpu, transformers, pandas, ...)
# through a .pth file, so torch is not installed twice; only neuralforecast and what it needs on top
# go into .venv-nf, all with --no-deps so that pip never replaces torch or another .venv package.
# `import neuralforecast` imports ray (neuralforecast/common/_base_auto.py: `from ray import tune`)
# even for models that never tune, so ray is needed, and msgpack for ray; ray's other imports are
# already in .venv. optuna is imported lazily and is left out. Idempotent: run it again at will.
#
#     bash bench/neuralforecast_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN=.venv/bin/python
NF=.venv-nf
[ -x "$MAIN" ] || { echo "the project's .venv is missing: create it first (make install)" >&2; exit 1; }
[ -x "$NF/bin/python" ] || "$MAIN" -m venv "$NF"
SITE=$("$NF/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
MAIN_SITE=$("$MAIN" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$MAIN_SITE" > "$SITE/_project_venv.pth"
"$NF/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
    neuralforecast==3.3.0 pytorch-lightning==2.6.6 lightning-utilities==0.15.3 torchmetrics==1.9.0 \
    utilsforecast==0.2.17 coreforecast==0.0.20 ray==2.60.0 msgpack==1.2.4
"$NF/bin/python" - <<'PY'
import neuralforecast
import torch
from neuralforecast.models import TimeLLM  # noqa: F401

assert torch.__version__.startswith("2.13.0"), f"torch changed to {torch.__version__}"
print(f"neuralforecast {neuralforecast.__version__} with torch {torch.__version__}: ready")
PY
