"""Shared fixtures: paths to the project's bundled data (tests never need ../shared)."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from core.datasets import load_builtin
from core.runs.spec import RunSpec
from core.runs.store import RunStore
from core.runs.train_config import TrainConfig
from core.training.runner import run_training

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
# Proxy-tuned decoding small enough for a test: a tiny random base, the bundled numeric Llama as
# the small model, few samples and windows.
TINY_PROXY = dict(
    base="tiny-random-llama",
    small="numeric",
    alpha_windows=3,
    samples=3,
    test_windows=2,
    train_windows=16,
    context_tokens=512,
)


@pytest.fixture(scope="session")
def etth1() -> pd.DataFrame:
    return pd.read_csv(DATA / "ETTh1.csv")


@pytest.fixture(scope="session")
def ili() -> pd.DataFrame:
    return pd.read_csv(DATA / "national_illness.csv")


@pytest.fixture(autouse=True, scope="session")
def model_cache_of_the_session(tmp_path_factory):
    """Converted models (SmolLM2's) go to a folder of the test session's own, never the user's cache."""
    from core.lm.cache import ENVIRONMENT

    folder = tmp_path_factory.mktemp("model-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv(ENVIRONMENT, str(folder))
    yield
    patch.undo()
    shutil.rmtree(folder, ignore_errors=True)  # half a gigabyte once SmolLM2 is converted


@pytest.fixture(autouse=True, scope="session")
def no_showcase_unless_asked():
    """Pages list the user's runs alone in tests, as if no showcase shipped; the tests of the
    showcase itself (tests/test_showcase.py, tests/pages/test_showcase_pages.py) ask for it."""
    from core.runs.showcase import SHOWCASE_ENV

    patch = pytest.MonkeyPatch()
    patch.setenv(SHOWCASE_ENV, "none")
    yield
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def full_error_details_in_tests():
    """The app hides error details from users; tests must see them when an exception slips through."""
    from streamlit import config

    config.set_option("client.showErrorDetails", "full")


@pytest.fixture(scope="session")
def etth1_dataset():
    """The bundled ETTh1 as the app loads it (read once: tests do not change it)."""
    return load_builtin("ETTh1")


@pytest.fixture(scope="module")
def two_runs(etth1_dataset, tmp_path_factory):
    """Two DLinear runs of one setting (target OT alone, horizon 24) with different look-backs, in a
    store of each test module's own."""
    store = RunStore(tmp_path_factory.mktemp("runs"))
    fast = TrainConfig(epochs=1, batch_size=256, lr=0.005, precision="fp32")
    ids = [
        run_training(
            RunSpec(model="dlinear", seq_len=seq_len, pred_len=24, features="S", train=fast),
            etth1_dataset,
            store,
        ).run_id
        for seq_len in (48, 96)
    ]
    return store, ids
