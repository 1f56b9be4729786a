"""What the engine tests share: CSV text read into a data set, and the M4 Hourly files."""

import pytest

from core import ingest
from core.dataset import Dataset
from core.evaluation import read_m4
from tests.conftest import TEST_DATA

M4 = TEST_DATA / "m4"


def load_text(text, **kwargs) -> Dataset:
    """Read CSV text (or bytes) and build a data set with the suggested mapping."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    table = ingest.read_table(data)
    return ingest.build_dataset(table, ingest.suggest_mapping(table), "test", **kwargs)


@pytest.fixture(scope="module")
def m4_hourly():
    return read_m4(M4 / "Hourly-train.csv", M4 / "Hourly-test.csv", horizon=48)
