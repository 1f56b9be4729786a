"""A stored run's settings as files a person can keep, and back as a run to launch again.

`config_json` is the full record (settings, the model's resolved config, the split borders, the
metrics); `config_toml` is the part that defines the run, in the format `python -m core train
--config` reads; `spec_from_config` turns either back into a `RunSpec`.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import fields
from typing import Any

from core.runs.spec import RunSpec
from core.runs.store import RunRecord
from core.runs.train_config import TrainConfig

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
SPEC_FIELDS = [f.name for f in fields(RunSpec)]


def spec_settings(config: dict) -> dict:
    """The RunSpec fields of a stored config (the rest is what the run resolved from them)."""
    return {name: config[name] for name in SPEC_FIELDS if name in config}


def spec_from_config(config: dict) -> RunSpec:
    """A RunSpec from a stored run's config, or from a file written by `config_toml`/`config_json`."""
    settings = dict(config.get("config", config))  # a config_json file nests the settings
    settings.pop("data", None)
    unknown_train = set(settings.get("train") or {}) - {f.name for f in fields(TrainConfig)}
    if unknown_train:
        raise ValueError(f"unknown training setting(s) {', '.join(sorted(unknown_train))} in the config")
    kept = spec_settings(settings)
    if "model" not in kept:
        raise ValueError("the config names no model; it does not look like a run's config")
    kept["train"] = TrainConfig(**(kept.get("train") or {}))
    kept["model_options"] = dict(kept.get("model_options") or {})
    return RunSpec(**kept)


def config_json(run: RunRecord) -> str:
    """Everything the store knows about a run's settings and results, as indented JSON."""
    record = {
        "run_id": run.id,
        "name": run.name,
        "data": run.dataset_name,
        "dataset_hash": run.dataset_hash,
        "model": run.model,
        "status": run.status,
        "precision": run.precision,
        "device": run.device,
        "wall_time_s": run.wall_time_s,
        "trainable_params": run.trainable_params,
        "total_params": run.total_params,
        "config": run.config,
        "val_metrics": run.val_metrics,
        "test_metrics": run.test_metrics,
    }
    # Strict JSON has no NaN or infinity: an undefined metric is written as null.
    return json.dumps(_finite(record), indent=2, default=str, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def config_toml(run: RunRecord) -> str:
    """The settings that define a run, as a TOML file for `python -m core train --config`."""
    settings = spec_settings(run.config)
    lines = [
        f"# Run {run.id} ({_comment(run.name)}), trained on {_comment(run.dataset_name)}.",
        "# Train it again: python -m core train --config <this file>",
        "# `data` is a built-in data set's name or the path of a CSV file: for an uploaded file,",
        "# write the path where that file is on this machine. `columns` are the channels it was",
        "# loaded with (target included), read from the CSV in place of the suggested ones.",
        f"data = {_value(run.dataset_name or '')}",
    ]
    if run.config.get("data_columns"):  # the channels the data set was loaded with, target included
        lines.append(f"columns = {_value(list(run.config['data_columns']))}")
    tables = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            tables[key] = value
        elif value is not None:
            lines.append(f"{_key(key)} = {_value(value)}")
    for name, table in tables.items():
        lines += ["", f"[{_key(name)}]"]
        lines += [f"{_key(key)} = {_value(value)}" for key, value in table.items() if value is not None]
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # what we write must read back
    return text


def _comment(text: str | None) -> str:
    """Text safe inside a TOML comment: one line, no control characters."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text))


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    """A TOML basic string: backslash, quote and control characters escaped, other text as is."""

    def escape(ch: str) -> str:
        if ch in ('"', "\\"):
            return "\\" + ch
        if ord(ch) < 32 or ord(ch) == 127:
            return f"\\u{ord(ch):04x}"
        return ch

    return '"' + "".join(map(escape, text)) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        items = [f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
