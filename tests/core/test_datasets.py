"""Built-in data sets load offline; the Hub fetch fails with a plain message when offline."""

import hashlib

import pytest
from huggingface_hub import constants

from core import datasets
from core.dataset import DataError
from core.ingest import inspect, needs_repair
from tests.conftest import DATA

# sha256 of ETDataset's ETT-small/ETTh1.csv: the bundled copy must stay unmodified (CC BY-ND 4.0).
ETTH1_SHA256 = "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066"


def test_bundled_etth1_is_the_unmodified_file():
    assert hashlib.sha256((DATA / "ETTh1.csv").read_bytes()).hexdigest() == ETTH1_SHA256


def test_etth1_is_the_default_and_complete():
    dataset = datasets.load_builtin(datasets.DEFAULT_DATASET)
    assert dataset.name == "ETTh1" and dataset.target == "OT" and dataset.freq == "h"
    assert len(dataset.frame) == 17420 and len(dataset.channels) == 7
    assert str(dataset.frame.index[0]) == "2016-07-01 00:00:00"
    assert inspect(dataset) == []


@pytest.mark.parametrize("name", list(datasets.BUILT_INS))
def test_every_builtin_loads_ready_to_use(name):
    dataset = datasets.load_builtin(name)
    assert len(dataset.frame) > 300
    assert dataset.description and dataset.source
    assert not needs_repair(inspect(dataset))


def test_unknown_builtin():
    with pytest.raises(DataError, match="no built-in data set"):
        datasets.load_builtin("nope")


@pytest.mark.parametrize(
    "repo_id, filename, message",
    [
        ("not a repo", "x.csv", "not a dataset repository id"),
        ("a/b", "../etc/passwd", "not a CSV file path"),
        ("a/b", "model.bin", "not a CSV file path"),
    ],
)
def test_hub_requests_are_validated(repo_id, filename, message):
    with pytest.raises(DataError, match=message):
        datasets.fetch_hub_csv(repo_id, filename)


def test_hub_offline_gives_a_plain_message(monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataError, match="cannot be reached"):
        datasets.fetch_hub_csv("owner/some-dataset", "data/train.csv")
