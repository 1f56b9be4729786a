"""Shared fixtures: paths to the project's bundled data (tests never need ../shared)."""

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
# Proxy-tuned decoding small enough for a test: tiny random models, few samples and windows.
TINY_PROXY = dict(
    base="tiny-random-llama",
    small="tiny-random-llama",
    small_layers=1,
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
def full_error_details_in_tests():
    """The app hides error details from users; tests must see them when an exception slips through."""
    from streamlit import config

    config.set_option("client.showErrorDetails", "full")
