"""Built-in data sets: bundled files, series that ship with statsmodels, and CSVs on the Hub.

Everything here works offline except `fetch_hub_csv`, which downloads once into the Hugging Face
cache and then reads from it; without a network it raises a `DataError` with a plain message.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd

from core.dataset import DataError, Dataset
from core.ingest import build_dataset, infer_frequency, read_table, repair, suggest_mapping

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_DATASET = "ETTh1"


@dataclass(frozen=True)
class BuiltIn:
    name: str
    description: str
    source: str
    loader: Callable[[], Dataset]


def _bundled_csv(filename: str, name: str, description: str, source: str) -> Dataset:
    table = read_table((DATA_DIR / filename).read_bytes(), max_bytes=None)
    return build_dataset(table, suggest_mapping(table), name, description=description, source=source)


def _etth1() -> Dataset:
    return _bundled_csv(
        "ETTh1.csv",
        "ETTh1",
        "Hourly oil temperature (OT) of an electricity transformer in China, with six power-load "
        "channels, July 2016 to June 2018.",
        "ETDataset (Zhou et al., AAAI 2021), CC BY-ND 4.0, bundled unmodified",
    )


def _ili() -> Dataset:
    return _bundled_csv(
        "national_illness.csv",
        "ILI",
        "Weekly share of patient visits for influenza-like illness in the United States, "
        "2002 to 2020 (OT: total count), with age-group and provider channels.",
        "US CDC ILINet, as used by Autoformer and Time-Series-Library",
    )


def _from_statsmodels(frame: pd.DataFrame, target: str, name: str, description: str) -> Dataset:
    frame = frame.astype(float)
    dataset = Dataset(frame, target, name, description, "statsmodels datasets (offline)")
    dataset.freq = infer_frequency(frame.index)
    repaired, _ = repair(dataset)  # CO2 has missing weeks; the others are complete
    return repaired


def _co2() -> Dataset:
    from statsmodels.datasets import co2

    frame = co2.load_pandas().data
    frame.index = pd.DatetimeIndex(frame.index, name="timestamp")
    return _from_statsmodels(
        frame,
        "co2",
        "CO2 (Mauna Loa)",
        "Weekly atmospheric CO2 concentration (ppm) at Mauna Loa, 1958 to 2001; the 59 missing "
        "weeks are filled by linear interpolation.",
    )


def _sunspots() -> Dataset:
    from statsmodels.datasets import sunspots

    raw = sunspots.load_pandas().data
    index = pd.to_datetime(raw["YEAR"].astype(int).astype(str), format="%Y")
    frame = pd.DataFrame({"sunactivity": raw["SUNACTIVITY"].to_numpy()}, index=index)
    frame.index.name = "timestamp"
    return _from_statsmodels(
        frame, "sunactivity", "Sunspots", "Yearly sunspot numbers, 1700 to 2008 (cycle about 11 years)."
    )


def _elnino() -> Dataset:
    from statsmodels.datasets import elnino

    raw = elnino.load_pandas().data
    months = raw.columns[1:]
    long = raw.melt(id_vars="YEAR", value_vars=list(months), var_name="month", value_name="sst")
    long["month"] = long["month"].map({m: i + 1 for i, m in enumerate(months)})
    index = pd.to_datetime({"year": long["YEAR"].astype(int), "month": long["month"], "day": 1}).rename(
        "timestamp"
    )
    frame = pd.DataFrame({"sst": long["sst"].to_numpy()}, index=index).sort_index()
    return _from_statsmodels(
        frame,
        "sst",
        "El Niño",
        "Monthly sea-surface temperature (°C) in the El Niño region, 1950 to 2010.",
    )


BUILT_INS: dict[str, BuiltIn] = {
    b.name: b
    for b in [
        BuiltIn("ETTh1", "Electricity transformer temperature, hourly", "bundled", _etth1),
        BuiltIn("ILI", "Influenza-like illness, weekly", "bundled", _ili),
        BuiltIn("CO2 (Mauna Loa)", "Atmospheric CO2, weekly", "statsmodels", _co2),
        BuiltIn("Sunspots", "Sunspot numbers, yearly", "statsmodels", _sunspots),
        BuiltIn("El Niño", "Sea-surface temperature, monthly", "statsmodels", _elnino),
    ]
}


def load_builtin(name: str) -> Dataset:
    if name not in BUILT_INS:
        raise DataError(f"There is no built-in data set '{name}'. Pick one of: {', '.join(BUILT_INS)}.")
    return BUILT_INS[name].loader()


_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
_FILENAME = re.compile(r"^[\w.\- /]+\.(csv|tsv|txt)$", re.IGNORECASE)


def validate_hub_request(repo_id: str, filename: str) -> tuple[str, str]:
    repo_id, filename = repo_id.strip(), filename.strip()
    if not _REPO_ID.match(repo_id) or ".." in repo_id:
        raise DataError(
            f"'{repo_id}' is not a dataset repository id. Write it as owner/name, for example "
            "'autogluon/chronos_datasets'."
        )
    if not _FILENAME.match(filename) or ".." in filename or filename.startswith("/"):
        raise DataError(
            f"'{filename}' is not a CSV file path in the repository. Give the path of a .csv, "
            ".tsv or .txt file, for example 'data/train.csv'."
        )
    return repo_id, filename


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick connection check, so that an offline machine answers at once from the cache
    instead of after the client's retries (about 25 s)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    host = urlparse(constants.ENDPOINT).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def fetch_hub_csv(repo_id: str, filename: str, revision: str | None = None) -> tuple[bytes, str]:
    """Download (or read from the local cache) one CSV file of a Hugging Face dataset repository.

    Returns the bytes and the local path. Network and lookup failures become `DataError`s.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    repo_id, filename = validate_hub_request(repo_id, filename)
    try:
        path = hf_hub_download(
            repo_id,
            filename,
            repo_type="dataset",
            revision=revision,
            local_files_only=not _hub_reachable(),
        )
    except LocalEntryNotFoundError:
        raise DataError(
            "The Hugging Face Hub cannot be reached from here (offline or blocked), and this file "
            "is not in the local cache. Pick a built-in data set or upload the CSV instead."
        ) from None
    except GatedRepoError:
        raise DataError(
            f"The repository '{repo_id}' is gated: accept its terms on the Hub and log in with "
            "`hf auth login`, or download the file and upload it here."
        ) from None
    except RepositoryNotFoundError:
        raise DataError(
            f"No dataset repository '{repo_id}' was found on the Hub (or it is private). Check "
            "the owner/name spelling."
        ) from None
    except RevisionNotFoundError:
        raise DataError(f"The repository '{repo_id}' has no revision '{revision}'.") from None
    except EntryNotFoundError:
        raise DataError(
            f"The repository '{repo_id}' has no file '{filename}'. Check the path on the "
            "repository's 'Files' tab."
        ) from None
    except OSError as error:  # network errors surface as OSError subclasses (requests/httpx)
        raise DataError(
            f"Downloading from the Hub failed ({type(error).__name__}). Check the connection, or "
            "upload the CSV instead."
        ) from None
    return Path(path).read_bytes(), path
