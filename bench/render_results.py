"""Render bench/results/*.json into README.md's results section, so that every figure there came from a run.

The section lies between `<!-- results:start -->` and `<!-- results:end -->`; nothing outside the
markers is touched. Only fields are read, never the sentences beside them. An accuracy file holds
`rows` in the shape of `bench.common.accuracy_row`, and every row renders through one table: the
model, the data set, the protocol (features, look-back L, horizon H, split, what was scored, the
training budget), the precision, the machine, the metrics and the wall time, beside the published
figure for the same model, data set, features and horizon where one exists (PUBLISHED_* below,
copied from the papers); a new accuracy bench needs only its line in ACCURACY. Speed results get
tables of their own (SPEED): what was timed, the time, the throughput and a ratio, under the
bench's `protocol` sentence as it was written. The prediction intervals (INTERVALS) get a section of
their own: each calibration's coverage beside its nominal level, and the verdict against the baselines.

A JSON that is missing, malformed or in an older shape is left out with a printed note (and a line in
the section); the rest still renders. The output depends on the JSON alone (no clock, no paths).

    python bench/render_results.py            # rewrite README.md's section in place
    python bench/render_results.py --check    # exit 1 when README.md's section differs from the JSON
        [--readme README.md] [--results bench/results]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- results:start -->"
END = "<!-- results:end -->"
COMMAND = "python bench/render_results.py"

# Published figures, copied from the papers (the project's data notes list the same numbers). `match`
# says which of our rows a figure sits beside: the same model, data set, features and horizon (and,
# for the protocol checks, the same look-back and windows scored). Entries without a horizon are
# averages over the horizons 96, 192, 336 and 720 and match no row; they appear in the list only.
SOURCES = {
    "patchtst": "Nie, Nguyen, Sinthong, Kalagnanam: *A Time Series is Worth 64 Words: Long-term Forecasting "
    "with Transformers* (PatchTST), ICLR 2023",
    "dlinear": "Zeng, Chen, Zhang, Xu: *Are Transformers Effective for Time Series Forecasting?* (DLinear), "
    "AAAI 2023",
    "gpt4ts": "Zhou, Niu, Wang, Sun, Jin: *One Fits All: Power General Time Series Analysis by "
    "Pretrained LM* (GPT4TS), NeurIPS 2023",
    "time_llm": "Jin et al.: *Time-LLM: Time Series Forecasting by Reprogramming Large Language Models*, "
    "ICLR 2024",
    "tempo": "Cao et al.: *TEMPO: Prompt-based Generative Pre-trained Transformer for Time Series "
    "Forecasting*, ICLR 2024",
    "m4": "Makridakis, Spiliotis, Assimakopoulos: *The M4 Competition: 100,000 time series and 61 "
    "forecasting methods*, International Journal of Forecasting 36(1), 2020",
    "check": "not a paper's table: what repeating the last value scores under the standard protocol "
    "(Time-Series-Library's borders and scaling), the check every implementation of it must reproduce",
}
SHORT_SOURCE = {
    "patchtst": "Nie et al. 2023",
    "dlinear": "Zeng et al. 2023",
    "gpt4ts": "Zhou et al. 2023",
    "time_llm": "Jin et al. 2024",
    "tempo": "Cao et al. 2024",
    "m4": "Makridakis et al. 2020",
    "check": "protocol check",
}


# ETTh1, the papers' long-term tables: (label, our model key, features, look-back, horizon, MSE, MAE,
# source); horizon None is the paper's average over the horizons 96, 192, 336 and 720.
PUBLISHED_ETTH1 = [
    ("PatchTST/64", "patchtst", "M", 512, 96, 0.370, 0.400, "patchtst"),
    ("PatchTST/64", "patchtst", "M", 512, 192, 0.413, 0.429, "patchtst"),
    ("PatchTST/64", "patchtst", "M", 512, 336, 0.422, 0.440, "patchtst"),
    ("PatchTST/64", "patchtst", "M", 512, 720, 0.447, 0.468, "patchtst"),
    ("DLinear", "dlinear", "M", 336, 96, 0.375, 0.399, "dlinear"),
    ("DLinear", "dlinear", "M", 336, 192, 0.405, 0.416, "dlinear"),
    ("DLinear", "dlinear", "M", 336, 336, 0.439, 0.443, "dlinear"),
    ("DLinear", "dlinear", "M", 336, 720, 0.472, 0.490, "dlinear"),
    ("GPT4TS (One Fits All)", "gpt4ts", "M", 336, None, 0.427, 0.426, "gpt4ts"),
    ("Time-LLM (LLaMA-7B)", "time_llm", "M", 512, None, 0.408, 0.423, "time_llm"),
    ("TEMPO, zero-shot (trained on other data sets)", "tempo", "M", 336, None, 0.428, 0.427, "tempo"),
]
# Repeating the last value under the standard protocol, features M: (data, look-back, horizon, the
# test batch whose incomplete last batch was dropped (None: every window kept), MSE, MAE).
PROTOCOL_CHECKS = [
    ("ETTh1", 96, 96, 32, 1.295, 0.713),
    ("ETTh1", 96, 96, None, 1.294, 0.713),
    ("ETTh1", 96, 192, 32, 1.325, 0.733),
    ("ILI", 36, 24, None, 6.213, 1.622),
]
PUBLISHED_WINDOWS = [
    {
        "label": label,
        "data": "ETTh1",
        "setting": f"features {features}, L {look_back}",
        "horizon": horizon,
        "look_back": look_back,
        "mse": mse,
        "mae": mae,
        "source": source,
        "match": horizon and {"model": model, "data": "ETTh1", "features": features, "horizon": horizon},
    }
    for label, model, features, look_back, horizon, mse, mae, source in PUBLISHED_ETTH1
] + [
    {
        "label": "repeat last value",
        "data": data,
        "setting": f"features M, L {look_back}, "
        + (f"last test batch of {batch} dropped" if batch else "every test window"),
        "horizon": horizon,
        "look_back": look_back,
        "mse": mse,
        "mae": mae,
        "source": "check",
        "match": {
            "model": "naive",
            "data": data,
            "features": "M",
            "look_back": look_back,
            "horizon": horizon,
            "scored": "drop_last_batch" if batch else "all",
        }
        | ({"test_batch_size": batch} if batch else {}),
    }
    for data, look_back, horizon, batch, mse, mae in PROTOCOL_CHECKS
]
M4_HOURLY = {"horizon": 48, "season": 24, "series": 414}  # the competition's definition of the group
PUBLISHED_M4 = [
    {
        "label": label,
        "smape": smape,
        "mase": mase,
        "owa": owa,
        "source": "m4",
        "match": {"model": model, "data": "M4 Hourly", "horizon": 48, "season": 24, "series": 414},
    }
    for model, label, smape, mase, owa in [
        ("naive2", "Naive2", 18.383, 2.395, 1.000),
        ("snaive", "seasonal naive", 13.912, 1.193, 0.628),
        ("naive", "naive", 43.003, 11.608, 3.593),
    ]
]

MODEL_NAMES = {
    "naive": "naive (repeat last value)",
    "snaive": "seasonal naive",
    "naive2": "Naive2",
    "mean": "mean",
    "dlinear": "DLinear",
    "patchtst": "PatchTST",
    "stemgnn": "StemGNN",
    "pattn": "PAttn",
    "time_llm": "Time-LLM",
    "time_llm_no_llm": "Time-LLM ablation: no LLM",
    "time_llm_llm_to_attention": "Time-LLM ablation: LLM → one attention layer",
    "time_llm_random_init": "Time-LLM ablation: random-weight LLM",
    "tempo": "TEMPO (semi-soft prompts)",
    "tempo_no_prompt": "TEMPO ablation: no prompts",
    "tempo_no_decomposition": "TEMPO ablation: no decomposition",
    "proxy_base": "base language model alone",
    "proxy_expert": "tuned expert alone",
    "proxy_tuned": "proxy-tuned decoding",
}
BACKBONE_NAMES = {
    "smollm2-135m": "SmolLM2-135M",
    "minilm-l6": "MiniLM-L6",
    "gpt2": "GPT-2",
    "numeric-llama": "the numeric Llama (LoRA)",
}
OPTION_NAMES = {"alpha": "α"}
SPLITS = {"ett-hour": "ETT borders (12/4/4 months)", "ratio": "70/10/20 split"}
CHECKPOINTS = {"best_validation": "best-validation checkpoint", "last": "no validation, the last weights"}
CPU_FLAGS = {"avx512_bf16": "AVX-512 BF16", "amx_bf16": "AMX BF16"}


class Shape(Exception):
    """The JSON does not have the shape this renderer reads (an older or a broken file)."""


# ---------------------------------------------------------------------------------------------- format


def metric(value) -> str:
    """MSE, MAE, MASE, OWA, sMAPE: 3 decimals, 3 significant digits below 0.1, no decimals from 1,000."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    size = abs(value)
    if size >= 1e5:
        return f"{value:.2e}"
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 0.1 or size == 0:
        return f"{value:.3f}"
    return f"{value:.3g}"


def seconds(value) -> str:
    value = float(value)
    if value < 0.1:
        return f"{value * 1000:.2g} ms"
    if value < 10:
        return f"{value:.2f} s"
    if value < 100:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def ratio(value) -> str:
    value = float(value)
    return f"{value:.1f}×" if value >= 10 else f"{value:.2f}×" if value >= 0.1 else f"{value:.3f}×"


def gib(mebibytes) -> str:
    return f"{float(mebibytes) / 1024:.1f} GiB"


def share(value) -> str:
    return f"{100 * float(value):.0f} %"


def percent(value, signed: bool = False) -> str:
    """A share or a coverage to one decimal: 0.8432 -> "84.3 %" (signed: "+84.3 %")."""
    return f"{100 * float(value):{'+' if signed else ''}.1f} %"


def count(value) -> str:
    value = int(value)
    if value >= 1_000_000:
        return f"{value / 1e6:.2f} M"
    if value >= 10_000:
        return f"{value / 1e3:.1f} k"
    return f"{value:,}"


def rate(value) -> str:
    value = float(value)
    return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ordinal(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def machine_label(info: dict) -> str:
    """A short description of the machine a JSON was measured on: its GPU, or its cores and CPU."""
    if info["gpu"]:
        return str(info["gpu"])
    return f"{info['cpu_count'] or info['threads']}-core {info['arch']} CPU"


def backbone_label(backbone: dict) -> str:
    name = BACKBONE_NAMES.get(backbone["name"], backbone["name"])
    layers = backbone["layers"]
    return f"{name} with {layers} layer{'s' if layers != 1 else ''}" if layers else name


def autocast(precision: str) -> str:
    return precision if precision == "fp32" else f"{precision} autocast"


# ------------------------------------------------------------------------------------------- accuracy


CONFIGURATION_NOTES = {"proxy": " (chosen on validation)", "proxy_alpha_1": " (the paper's)"}


def model_label(row: dict) -> str:
    label = MODEL_NAMES.get(row["model"], row["model"])
    if row.get("implementation"):
        label += f" ({row['implementation']['name']} {row['implementation']['version']})"
    if row["backbone"]:
        label += f", {backbone_label(row['backbone'])}"
    for key, value in row.get("options", {}).items():
        label += f", {OPTION_NAMES.get(key, key)} {value:g}"
    label += CONFIGURATION_NOTES.get(row.get("configuration"), "")
    return label


def repeated_proxy(row: dict, report: dict) -> bool:
    """The proxy at the paper's alpha 1 when alpha 1 is also the one chosen on validation: the bench
    decoded it once, so it would repeat the row above it."""
    return row.get("configuration") == "proxy_alpha_1" and report.get("alpha") == 1


def scored(row: dict) -> str:
    """Which test windows (or series) were scored."""
    unit, n = ("series", row["series"]) if row["series"] is not None else ("test windows", row["windows"])
    how = row["scored"]
    if how == "all":
        return f"all {n:,} {unit}"
    if how == "drop_last_batch":
        return f"{n:,} {unit} (the last batch of {row['test_batch_size']} dropped)"
    if how == "every_nth":
        forecasts = row.get("forecasts")
        channels = f" × {forecasts // n} channels = {forecasts:,} forecasts" if forecasts else ""
        return f"every {ordinal(row['every'])} test window ({n:,}{channels})"
    listed = row.get("series_ids") or []
    ids = f" ({', '.join(listed)})" if 0 < len(listed) <= 8 else ""  # a longer list is in the JSON
    return f"{n:,} of {row['out_of']:,} {unit}, evenly spaced{ids}"


def budget_words(budget: dict) -> str:
    if budget.get("steps"):
        words = f"{budget['steps']} steps of {budget['batch_size']} windows"
    else:
        epochs = budget["epochs"]
        words = f"{epochs} epoch{'s' if epochs != 1 else ''}"
        words += f" (best {budget['best_epoch']}), " if budget.get("best_epoch") else ", "
        words += f"batch {budget['batch_size']}"
    if budget.get("optimizer"):
        words += f", {budget['optimizer']}"
    if budget.get("lr") is not None:
        words += f", lr {budget['lr']:g}" + (f" {budget['schedule']}" if budget.get("schedule") else "")
    return words


def protocol(row: dict) -> str:
    parts = []
    if row["features"]:
        parts.append(f"features {row['features']}" + (f" ({row['target']})" if row["target"] else ""))
    if row["look_back"]:
        parts.append(f"L {row['look_back']}")
    parts.append(f"H {row['horizon']}")
    if row["season"]:
        parts.append(f"m {row['season']}")
    if row["split"]:
        parts.append(SPLITS.get(row["split"], row["split"]))
    parts.append(scored(row))
    if row.get("context_tokens"):
        parts.append(f"history cut to {row['context_tokens']:,} tokens")
    if row["checkpoint"]:
        parts.append(CHECKPOINTS.get(row["checkpoint"], row["checkpoint"]))
    return ", ".join(parts) + (f"; {budget_words(row['budget'])}" if row["budget"] else "")


def precision(row: dict) -> str:
    trained = row.get("train_precision")
    return row["precision"] + (f" (trained in {trained})" if trained else "")


def wall(row: dict) -> str:
    if row.get("train_time_s") is not None and row.get("test_time_s") is not None:
        return f"{seconds(row['train_time_s'])} + {seconds(row['test_time_s'])}"
    return seconds(row["wall_time_s"]) if row["wall_time_s"] is not None else "–"


def published(row: dict, entries: list[dict], figures: Callable[[dict], str]) -> str:
    for entry in entries:
        if entry["match"] and all(row.get(key) == value for key, value in entry["match"].items()):
            return figures(entry)
    return "–"


@dataclass
class Kind:
    """An accuracy table by its metrics: where it goes, its columns and the published figures beside."""

    heading: str
    metrics: list[tuple[str, str]]
    published_header: str
    published: list[dict]
    figures: Callable[[dict], str]


KINDS = {
    "mse": Kind(
        "### Accuracy: long-term windows (MSE / MAE)",
        [("mse", "MSE"), ("mae", "MAE")],
        "published MSE / MAE, same model, data, features and H",
        PUBLISHED_WINDOWS,
        lambda e: (
            f"{metric(e['mse'])} / {metric(e['mae'])} ({e['label']}, L {e['look_back']}; "
            f"{SHORT_SOURCE[e['source']]})"
        ),
    ),
    "smape": Kind(
        "### Accuracy: M4 Hourly (sMAPE / MASE / OWA)",
        [("smape", "sMAPE (%)"), ("mase", "MASE"), ("owa", "OWA (against Naive2 on the same series)")],
        "published sMAPE / MASE / OWA, all 414 series",
        PUBLISHED_M4,
        lambda e: (
            f"{metric(e['smape'])} / {metric(e['mase'])} / {metric(e['owa'])} ({SHORT_SOURCE[e['source']]})"
        ),
    ),
}
# Columns a table shows when one of its rows has the figure: (header, the figure, its format).
EXTRAS = [
    ("trainable parameters", lambda row: row.get("trainable_params"), count),
    ("training loss (last 10 steps)", lambda row: row.get("train_loss_last10"), metric),
    ("NLL per step", lambda row: row["metrics"].get("nll_per_step"), lambda value: f"{value:.2f}"),
    ("80 % band coverage", lambda row: row["metrics"].get("coverage_80"), percent),
    (
        "windows diverged (largest excursion, in history ranges)",
        lambda row: row.get("diverged"),
        lambda found: f"{found['windows']} ({found['largest_excursion_in_ranges']:.2f})",
    ),
]


def accuracy_table(rows: list[dict], kind: Kind, machine: str) -> list[str]:
    extras = [extra for extra in EXTRAS if any(extra[1](row) is not None for row in rows)]
    header = ["model", "data", "protocol", "precision", "machine", *[label for _, label in kind.metrics]]
    header += ["wall time (train + test)", *[label for label, _, _ in extras], kind.published_header]
    cells = [
        [
            model_label(row),
            row["data"],
            protocol(row),
            precision(row),
            machine,
            *[metric(row["metrics"][key]) for key, _ in kind.metrics],
            wall(row),
            *[fmt(figure(row)) if figure(row) is not None else "–" for _, figure, fmt in extras],
            published(row, kind.published, kind.figures),
        ]
        for row in rows
    ]
    return table(header, cells)


METRIC_NAMES = {"mse": "MSE", "mae": "MAE", "smape": "sMAPE", "mase": "MASE", "nll_per_step": "NLL"}


def gap_words(share: float | None) -> str:
    """The share of the base-to-expert gap the proxy closes ((base − proxy) / (base − expert)), in
    words; None: the expert is not better than the base."""
    if share is None:
        return "the expert is not better than the base here, so there is no gap to close"
    if share > 1:
        return f"the proxy goes past the expert (it closes {share:.0%} of the gap between them)"
    most = "most of it" if share > 0.5 else "not most of it"
    return f"the proxy closes {share:.0%} of the gap between the base and the expert ({most})"


def proxy_caption(report: dict) -> str:
    settings, expert = report["settings"], report["expert"]
    if "alpha_curve" not in report:
        raise Shape("no alpha chosen on validation (an older shape)")
    curve = ", ".join(f"{alpha}: {value:.2f}" for alpha, value in report["alpha_curve"].items())
    closed = "; ".join(
        f"{METRIC_NAMES.get(name, name)}: {gap_words(share)}"
        for name, share in report["summary"]["gap_closed"].items()
    )
    paper = "; that is the paper's α, so the proxy has one row" if report["alpha"] == 1 else ""
    return (
        f"base SmolLM2-135M (30 layers), small model the numeric Llama, tuned with {expert['tune']}; "
        f"{settings['samples']} samples at temperature {settings['temperature']}, top-p {settings['top_p']}, "
        f"the median as the forecast. α = {report['alpha']:g}, chosen on {report['alpha_windows']} "
        f"validation windows by the proxy's NLL per step ({curve}){paper}. Per-row times were not "
        f"recorded: the whole run took {seconds(report['wall_s'])}, of which tuning the expert "
        f"({expert['epochs_run']} epochs) {seconds(expert['train_s'])}. The paper's claim, that the "
        f"proxy closes most of the gap between the base and the expert: {closed}."
    )


@dataclass(frozen=True)
class OwnTable:
    """An accuracy file whose figures need a table of their own (means and spreads over seeds): it
    renders like a speed block (caption, lines, a line under them) into the `kind` section."""

    kind: str  # a key of KINDS
    render: Callable[[dict], tuple[str, list[str], str]]


# (file, the script that writes it, title, caption or how to write it from the file, or a table of
# its own), in the order the section shows them.
ACCURACY: list[tuple[str, str, str, str | Callable[[dict], str] | OwnTable]] = [
    (
        "foundation.json",
        "bench/bench_foundation.py",
        "Reference baselines",
        "what the protocol's baselines score; nothing is trained.",
    ),
    (
        "baselines.json",
        "bench/bench_baselines.py",
        "Trainable baselines",
        "each model with its own training defaults, through the project's one training loop.",
    ),
    (
        "stemgnn_pattn.json",
        "bench/bench_stemgnn_pattn.py",
        "StemGNN and PAttn beside DLinear and PatchTST",
        "each model from its starting settings for the data (its training defaults and preset), through "
        "the project's one runner; PAttn is 128 wide on a CPU and trains on the MAE loss, as its authors "
        "did, the others on MSE.",
    ),
    (
        "intervals.json",
        "bench/bench_intervals.py",
        "DLinear, the run behind the prediction intervals",
        "DLinear from its starting settings, through the project's one runner; its bands and verdict "
        "are under *Prediction intervals and the verdict*.",
    ),
    (
        "time_llm_ablations.json",
        "bench/bench_time_llm_ablations.py",
        "Time-LLM and its ablations on a CPU budget",
        "one epoch over every training window is a budget, not convergence; DLinear under the same "
        "protocol is the yardstick.",
    ),
    (
        "tempo_accuracy.json",
        "bench/bench_tempo.py --part accuracy",
        "TEMPO and its ablations on a CPU budget",
        "STL of each window and a LoRA-adapted backbone; the same budget as Time-LLM's ablations.",
    ),
    (
        "time_llm_vs_neuralforecast.json",
        "bench/bench_time_llm_vs_neuralforecast.py",
        "Time-LLM against neuralforecast's TimeLLM at equal architecture, accuracy over seeds",
        OwnTable("mse", lambda report: versus_neuralforecast_accuracy(report)),
    ),
    ("proxy_ili.json", "bench/bench_proxy.py --part ili", "Proxy-tuned decoding on ILI", proxy_caption),
    (
        "proxy_m4_hourly.json",
        "bench/bench_proxy.py --part m4",
        "Proxy-tuned decoding on M4 Hourly",
        proxy_caption,
    ),
]


# ---------------------------------------------------------------------------------------------- speed
# Each returns the caption (the machine goes after it), the table and a line under it.


def columns(rows: list[dict], spec: list[tuple[str, Callable[[dict], str]]]) -> list[str]:
    """A table with one column per (header, cell of a row)."""
    return table([header for header, _ in spec], [[cell(row) for _, cell in spec] for row in rows])


def foundation_speed(report: dict) -> tuple[str, list[str], str]:
    page, stl = report["page"], report["stl"]

    def target(value):
        return f"< {value:g} s" if value is not None else ""

    rows = [
        [
            "Data page, first AppTest run in a fresh process, ETTh1 loaded",
            seconds(page["data_page_first_run_fresh_process_s"]),
            "",
            "",
            target(page["target_s"]),
        ],
        [
            "Data page, a new session's first run in a warm process",
            seconds(page["data_page_first_run_warm_process_s"]),
            "",
            "",
            "",
        ],
    ]
    rows += [
        [
            f"STL of ETTh1 `OT` ({stl['points']:,} points), period {run['period']}, "
            f"{'robust' if run['robust'] else 'plain'}",
            seconds(run["project_s"]),
            seconds(run["statsmodels_exact_s"]),
            f"{ratio(run['statsmodels_exact_s'] / run['project_s'])} faster",
            target(run["target_s"]),
        ]
        for run in stl["runs"]
    ]
    difference = stl["mean_abs_difference"]
    after = (
        f"Our STL against the exact fit (period {difference['period']}, "
        f"{'robust' if difference['robust'] else 'plain'}): mean absolute difference "
        f"{metric(difference['trend'])} in the trend and {metric(difference['seasonal'])} in the seasonal "
        f"component (whose standard deviation is {metric(difference['seasonal_std'])})."
    )
    header = ["what was timed", "time", "statsmodels exact LOESS", "ratio", "target"]
    return "medians of repeated runs", table(header, rows), after


PAGE_TITLES = {
    "empty": "a page that does nothing (`bench/empty_page.py`)",
    "home": "Start here",
    "data": "Data",
    "explore": "Explore",
    "train": "Train",
    "forecast": "Forecast, a stored run",
    "attention": "Attention, a stored run",
    "compare": "Compare, the stored runs",
}
PAGE_ACTIONS = {"stl_period": "a new STL cycle length", "model": "another model chosen"}
PAGE_FIGURES = {"cold_s": "cold", "first_visit_s": "first visit", "first_s": "first visitor"}


def load_range(loads: list[float]) -> str:
    low, high = min(loads), max(loads)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}–{high:.1f}"


def page_speed(report: dict) -> tuple[str, list[str], str]:
    """Each page's first render and the slow interactions, in seconds and against the empty page."""
    pages = report["pages"]
    reference, target = pages["reference"], pages["target_s"]

    def timed(entry: dict, key: str, against: dict, against_key: str | None = None) -> str:
        value = entry[key]
        return f"{seconds(value)} ({ratio(value / against[against_key or key])})"

    def verdict(value: float, figure: str) -> str:
        return f"≤ {target:g} s, {PAGE_FIGURES[figure]}: {'met' if value <= target else 'missed'}"

    figures = ["cold_s", "first_visit_s", "again_s", "rerun_s"]
    rows = [
        [
            PAGE_TITLES["empty"],
            *[seconds(reference[key]) for key in figures],
            load_range(reference["load_1min"]),
            "",
        ]
    ]
    rows += [
        [
            f"{PAGE_TITLES[case['page']]}, {case['data']}",
            *[timed(case, key, reference) for key in figures],
            load_range(case["load_1min"]),
            verdict(case[case["judged"]], case["judged"]),
        ]
        for case in pages["cases"]
    ]
    lines = table(
        ["page, data", "cold process", "first visit", "new session, cached", "rerun", "load", "target"], rows
    )
    actions = [
        [
            f"{PAGE_TITLES[entry['page']].split(',')[0]}, {entry['data']}: {PAGE_ACTIONS[entry['action']]}",
            ", ".join(f"{value} {seconds(time)}" for value, time in entry["times_s"].items()),
            timed(entry, "median_s", reference, "rerun_s"),
            f"{entry['slowest']}: {timed(entry, 'slowest_s', reference, 'rerun_s')}",
            f"≤ {target:g} s, slowest: {'met' if entry['slowest_s'] <= target else 'missed'}",
        ]
        for entry in pages["interactions"]
    ]
    lines += [""] + table(["interaction", "each value", "median", "slowest", "target"], actions)
    browser = pages["browser"]
    if browser:
        app, empty = browser["app"], browser["reference"]
        lines += [""] + table(
            ["in Chromium, until the header is visible", "the app", "the empty page", "ratio", "target"],
            [
                [
                    f"{label} (`{app['heading']}` / `{empty['heading']}`)",
                    seconds(app[key]),
                    seconds(empty[key]),
                    ratio(app[key] / empty[key]),
                    verdict(app[key], key) if key == app["judged"] else "",
                ]
                for key, label in (
                    ("first_s", "a new server's first visitor"),
                    ("second_s", "a second visitor"),
                )
            ]
            + [
                [
                    "the server, started until healthy",
                    seconds(app["server_start_s"]),
                    seconds(empty["server_start_s"]),
                    ratio(app["server_start_s"] / empty["server_start_s"]),
                    "",
                ]
            ],
        )
    runs = ", ".join(
        f"{MODEL_NAMES.get(run['model'], run['model'])} ({run['features']}, L {run['look_back']}, H "
        f"{run['horizon']}, {run['epochs']} epoch{'s' if run['epochs'] > 1 else ''})"
        for run in pages["stored_runs"]
    )
    caption = (
        f"this part measured {pages['date']}; medians of {pages['repeats']} processes each, taking turns; "
        "in brackets the ratio to the page that does nothing, timed the same way in the same run; ETTh1 "
        f"bundled and ETTh2 ({count(pages['etth2']['rows'])} rows); the stored runs: {runs}; one-minute load "
        f"{pages['load_before']['1min']:.1f} at the start and {pages['load_after']['1min']:.1f} at the end "
        f"on {pages['cpu_count']} cores (the load column: at each process's start)"
    )
    after = (
        "Cold: a fresh process from before importing Streamlit to its first run at the page. First visit: "
        "a fresh process that drew the home page, and finished what it started in the background then, "
        "switches to the page (its own imports and uncached work). "
        "New session, cached: a new session at the page in that process. Rerun: the page again, "
        "unchanged; interactions are set in the first-visit process, each value new to the caches, and "
        "compared with the empty page's rerun. Chromium: from the navigation to the header being visible, "
        "a new server each time, the second visitor once it is idle."
    )
    return caption, lines, after


def cpu_precision(report: dict) -> tuple[str, list[str], str]:
    caption = (
        f"{report['protocol']}; the faster of {report['repeats']} medians of {report['timed_steps']} steps"
    )
    return (
        caption,
        columns(
            report["rows"],
            [
                ("model", lambda r: MODEL_NAMES.get(r["model"], r["model"])),
                ("precision", lambda r: autocast(r["precision"])),
                (f"step (batch {report['batch_size']})", lambda r: seconds(r["step_s"])),
                ("windows/s", lambda r: rate(r["windows_per_s"])),
                ("speed vs fp32", lambda r: ratio(r["speedup_over_fp32"])),
            ],
        ),
        "",
    )


def gpu_precision(report: dict) -> tuple[str, list[str], str]:
    fp32 = {r["batch_size"]: r["samples_per_s"] for r in report["rows"] if r["precision"] == "fp32"}
    info = report["machine"]
    caption = (
        f"{report['protocol']}; torch {info['torch']}, CUDA {info['cuda']}, capability {info['capability']}"
    )
    return (
        caption,
        columns(
            report["rows"],
            [
                ("batch", lambda r: str(r["batch_size"])),
                ("precision", lambda r: r["precision"]),
                ("median step", lambda r: f"{float(r['median_step_ms']):.1f} ms"),
                ("windows/s", lambda r: rate(r["samples_per_s"])),
                ("speed vs fp32", lambda r: ratio(r["samples_per_s"] / fp32[r["batch_size"]])),
                ("peak memory", lambda r: gib(r["peak_memory_mb"])),
                ("skipped steps", lambda r: str(r["skipped_steps"])),
            ],
        ),
        "",
    )


def time_llm_speed(report: dict) -> tuple[str, list[str], str]:
    settings = report["settings"]
    fp32 = {(s["backbone"], s["seq_len"]): s["windows_per_s"] for s in settings if s["precision"] == "fp32"}
    return (
        report["protocol"],
        columns(
            settings,
            [
                ("backbone", lambda s: backbone_label({"name": s["backbone"], "layers": s["layers"]})),
                ("look-back", lambda s: str(s["seq_len"])),
                ("precision", lambda s: s["precision"]),
                (f"step (batch {report['batch_size']})", lambda s: seconds(s["median_step_s"])),
                ("training windows/s", lambda s: rate(s["windows_per_s"])),
                ("speed vs fp32", lambda s: ratio(s["windows_per_s"] / fp32[(s["backbone"], s["seq_len"])])),
                ("V → V' map, share of a step", lambda s: share(s["prototype_map_share"])),
                ("prompt + patch tokens", lambda s: f"{s['prompt_tokens']} + {s['patches']}"),
                ("peak RSS", lambda s: gib(s["peak_rss_mb"])),
                ("CPU share", lambda s: share(s["cpu_share"])),
            ],
        ),
        "",
    )


NEURALFORECAST_VARIANTS = {
    "equal": "equal architecture (d_ff per head, convolution)",
    "narrow": "narrow heads (4 × d_model / heads), convolution",
    "linear": "d_ff per head, linear patch embedding",
}


def _versus_who(entry: dict) -> str:
    return "this project" if entry["side"] == "ours" else f"neuralforecast {entry.get('version', '')}".strip()


def _versus_architecture(entry: dict) -> str:
    if entry["side"] != "ours":
        return "its own (d_ff per head, convolution)"
    return NEURALFORECAST_VARIANTS.get(entry["variant"], entry["variant"])


def _mean_std(spread: dict, fmt: Callable[[float], str] = lambda value: f"{value:.3f}") -> str:
    """Mean ± sample standard deviation over seeds, both in `fmt` (3 decimals unless told)."""
    return fmt(spread["mean"]) + (f" ± {fmt(spread['std'])}" if spread["std"] is not None else "")


def _versus_entries(report: dict) -> tuple[list[dict], dict]:
    """The summary entries, each with its implementation's version, and neuralforecast's entry."""
    version = report["implementation"]["version"]
    entries = [
        entry | ({"version": version} if entry["side"] != "ours" else {}) for entry in report["summary"]
    ]
    theirs = next(entry for entry in entries if entry["side"] != "ours")
    return entries, theirs


def versus_neuralforecast_accuracy(report: dict) -> tuple[str, list[str], str]:
    """Test MSE and MAE, mean ± sample std over seeds, per side and variant."""
    entries, theirs = _versus_entries(report)
    lines = columns(
        entries,
        [
            ("implementation", _versus_who),
            ("architecture", _versus_architecture),
            ("seeds", lambda e: str(len(e["seeds"]))),
            ("test MSE, mean ± std", lambda e: _mean_std(e["test_mse"])),
            ("test MAE, mean ± std", lambda e: _mean_std(e["test_mae"])),
            ("MSE per seed", lambda e: " / ".join(metric(v) for v in e["test_mse"]["values"])),
            ("MSE vs neuralforecast", lambda e: ratio(e["test_mse"]["mean"] / theirs["test_mse"]["mean"])),
            ("training loss (last 10 steps)", lambda e: _mean_std(e["train_loss_last10"])),
            ("training time per run", lambda e: seconds(e["training_s"]["mean"])),
            ("trainable parameters", lambda e: count(e["trainable_parameters"])),
        ],
    )
    targets = report["targets"]
    after = (
        f"Target: {targets['mse']}: {'met' if targets['mse_met'] else 'not met'} (mean test MSE "
        f"{ratio(report['test_mse_ratio'])} neuralforecast's). {report['steps']} steps of "
        f"{report['windows_per_step']} windows per run, precision fp32, the last weights scored; the whole "
        f"run took {report['total_minutes']:.0f} min. The protocol, as the bench wrote it: "
        + report["protocol"]
    )
    return _versus_caption(report), lines, after


def _versus_caption(report: dict) -> str:
    return (
        f"{report['data']}, features {report['features']}, L {report['look_back']}, H {report['horizon']}, "
        f"{backbone_label(report['backbone'])} in both, {len(report['seeds'])} seeds per row"
    )


def versus_neuralforecast_speed(report: dict) -> tuple[str, list[str], str]:
    """Step time at fp32, mean of the seeds' medians, per side and variant, against neuralforecast's."""
    entries, theirs = _versus_entries(report)
    lines = columns(
        entries,
        [
            ("implementation", _versus_who),
            ("architecture", _versus_architecture),
            ("precision", lambda e: "fp32"),
            (
                f"step ({report['windows_per_step']} windows), mean ± std of the seeds' medians",
                lambda e: _mean_std(e["median_step_s"], lambda value: f"{value:.2f} s"),
            ),
            ("univariate windows/s", lambda e: rate(e["univariate_windows_per_s"])),
            (
                "speed vs neuralforecast",
                lambda e: ratio(theirs["median_step_s"]["mean"] / e["median_step_s"]["mean"]),
            ),
            ("prompt tokens per sequence", lambda e: f"{e['prompt_tokens_per_sequence']:.0f}"),
            ("peak RSS", lambda e: gib(e["peak_rss_mb_max"])),
            ("lowest CPU share", lambda e: share(e["cpu_share_min"])),
        ],
    )
    targets = report["targets"]
    after = (
        f"Target: {targets['speed']}: {'met' if targets['speed_met'] else 'not met'} "
        f"({ratio(report['speed_ratio'])} at equal architecture). `speed_comparable` is "
        f"{str(report['speed_comparable']).lower()} in the JSON (true when every run had a CPU share of at "
        "least 90 %)."
    )
    runs = report["runs"]
    equal = {run["seed"]: run for run in runs if run["side"] == "ours" and run["variant"] == "equal"}
    theirs_by_seed = {run["seed"]: run for run in runs if run["side"] != "ours"}
    per_seed = [
        f"seed {seed} {ratio(theirs_by_seed[seed]['median_step_s'] / equal[seed]['median_step_s'])} "
        f"(CPU share {share(theirs_by_seed[seed]['cpu_share'])} / {share(equal[seed]['cpu_share'])})"
        for seed in report["seeds"]
        if seed in equal and seed in theirs_by_seed
    ]
    if per_seed:
        after += (
            " Per seed, each seed's runs back to back (neuralforecast's median step over ours at equal "
            f"architecture; CPU share neuralforecast / ours): {', '.join(per_seed)}."
        )
    checks = [run["backbone_check"]["equal"] for run in runs if "backbone_check" in run]
    if checks and all(checks):
        after += " The backbone's tensors were checked equal in both models."
    if not report["machine"].get("native_bf16"):
        after += (
            " No bf16 rows: this CPU has no native bf16 (AVX-512 BF16 or AMX), so bf16 autocast would be "
            "emulated."
        )
    return _versus_caption(report), lines, after


def tempo_speed(report: dict) -> tuple[str, list[str], str]:
    settings = report["settings"]
    fp32 = next(s["windows_per_s"] for s in settings if s["precision"] == "fp32")
    return (
        report["protocol"],
        columns(
            settings,
            [
                ("precision", lambda s: s["precision"]),
                (f"step (batch {report['batch_size']})", lambda s: seconds(s["median_step_s"])),
                ("training windows/s", lambda s: rate(s["windows_per_s"])),
                ("speed vs fp32", lambda s: ratio(s["windows_per_s"] / fp32)),
                (
                    "tokens per sequence",
                    lambda s: (
                        f"{s['sequence_tokens']} ({s['prompt_tokens']} prompt, "
                        f"3 × {s['patches_per_part']} patches)"
                    ),
                ),
                (
                    "STL of a batch, fresh / cached",
                    lambda s: f"{seconds(s['stl_fresh_batch_s'])} / {seconds(s['stl_cached_batch_s'])}",
                ),
                (
                    "trainable parameters",
                    lambda s: f"{count(s['trainable_params'])} of {count(s['total_params'])}",
                ),
                ("peak RSS", lambda s: gib(s["peak_rss_mb"])),
                ("CPU share", lambda s: share(s["cpu_share"])),
            ],
        ),
        "",
    )


def proxy_speed(report: dict) -> tuple[str, list[str], str]:
    runs = report["rows"]
    fp32 = {
        (r["configuration"], r["samples"], r["horizon"]): r["tokens_per_s"]
        for r in runs
        if r["precision"] == "fp32" and r["kv_cache"]
    }
    labels = {"base": "base alone", "expert": "expert alone", "proxy": "proxy (base, expert, anti-expert)"}
    same = report["same_samples_with_and_without_cache"]
    drawn = ", ".join(f"{key} {'yes' if value else 'no'}" for key, value in same.items())
    after = f"Same samples drawn from the same seed with and without the caches: {drawn}." if same else ""
    if "proxy_over_base" in report:
        after += (
            f" Proxy decoding sampled {ratio(report['proxy_over_base'])} the base model's tokens per second "
            f"(target {report['target'].split('≥ ')[-1]}: {'met' if report['target_met'] else 'missed'})."
        )
    return (
        report["protocol"],
        columns(
            runs,
            [
                ("decoding", lambda r: labels.get(r["configuration"], r["configuration"])),
                ("precision", lambda r: autocast(r["precision"])),
                ("KV caches", lambda r: "yes" if r["kv_cache"] else "no"),
                ("samples × horizon", lambda r: f"{r['samples']} × {r['horizon']}"),
                ("prompt tokens", lambda r: str(r["prompt_tokens"])),
                ("sampled tokens", lambda r: f"{r['sampled_tokens']:,}"),
                ("decoding time", lambda r: seconds(r["decode_s"])),
                ("tokens/s", lambda r: rate(r["tokens_per_s"])),
                (
                    "vs fp32 with caches",
                    lambda r: ratio(
                        r["tokens_per_s"] / fp32[(r["configuration"], r["samples"], r["horizon"])]
                    ),
                ),
            ],
        ),
        after,
    )


def numeric_pretrain(report: dict) -> tuple[str, list[str], str]:
    corpus = report["corpus"]
    caption = (
        f"The numeric Llama ({report['parameters']:,} parameters, {report['weights_bytes'] / 2**20:.1f} MB "
        f"of safetensors), {report['steps']} steps of {report['batch_size']} serialised windows (AdamW, lr "
        f"{report['lr']:g}, cosine after {report['warmup']} warm-up steps, {report['precision']}), "
        f"{count(report['tokens_seen'])} atoms seen; corpus: {corpus['synthetic_series']:,} synthetic series "
        f"and the training parts of {len(corpus['real_series'])} real ones (excluded: {corpus['excluded']}); "
        f"held-out NLL over {corpus['held_out_windows']} windows of series never trained on"
    )
    rows = [[str(point["step"]), f"{point['nll_per_atom']:.4f}"] for point in report["held_out"]]
    after = f"The whole run took {seconds(report['wall_seconds'])} (`make pretrain-numeric`)."
    if report.get("previous_weights"):
        previous = report["previous_weights"]
        after += (
            f" The weights it replaced scored {previous['held_out_nll_per_atom']:.4f}; this run "
            f"{percent(previous['relative_difference'], signed=True)} against them."
        )
    return caption, table(["step", "held-out NLL per atom (nats)"], rows), after


def proxy_tuning(report: dict) -> tuple[str, list[str], str]:
    rows = [
        [
            row["tune"],
            f"{row['lr']:g}",
            count(row["trainable_parameters"]),
            str(row["steps"]),
            seconds(row["seconds"]),
            f"{row['val_nll_per_atom_before']:.4f}",
            f"{row['val_nll_per_atom_after']:.4f}",
        ]
        for row in report["rows"]
    ]
    speeds = report.get("full_tuning_steps_per_s", {})
    after = f"The better at equal time: {report['better']}."
    if speeds:
        after += (
            " Tuning steps per second: "
            + ", ".join(f"{autocast(name)} {value:g}" for name, value in speeds.items())
            + "."
        )
    header = ["tuned", "lr", "trainable", "steps", "time", "validation NLL per atom before", "after"]
    return report["protocol"], table(header, rows), after


def one_click(report: dict) -> tuple[str, list[str], str]:
    budget, test, final = report["budget"], report["test"], report["final_run"]
    before, after_run = report["load_before"]["1min"], report["load_after"]["1min"]
    waited = report["waited_for_load_s"]
    waited = (
        f" (after waiting {seconds(waited)} for it to fall below {report['load_limit']:g})" if waited else ""
    )
    caption = (
        f"{report['data']}, {MODEL_NAMES.get(report['model'], report['model'])}, features "
        f"{report['features']} ({report['target']}), L {report['look_back']}, H {report['horizon']} "
        f"(the home page's default), {SPLITS.get(report['split'], report['split'])}; "
        f"{len(report['tries'])} learning rates tried on the validation split ({budget['epochs']} epochs at "
        f"most, patience {budget['patience']}, batch {budget['batch_size']}), then the chosen one trained, "
        "tested and given its bands and verdict, as one background job into a new run store; timed from "
        f"the call to its return. One-minute load average {before:.1f} at the start{waited} and "
        f"{after_run:.1f} at the end; this process had a CPU {share(report['cpu_share'])} of the time"
    )

    def epochs(run: dict) -> str:
        return f"{run['epochs']} (best {run['best_epoch']})"

    rows = [
        [
            f"try {i}, validation only",
            f"{run['lr']:g}",
            epochs(run),
            metric(run["val_loss"]),
            seconds(run["wall_time_s"]),
            "",
        ]
        for i, run in enumerate(report["tries"], start=1)
    ]
    rows.append(
        [
            "the chosen rate: train, test, bands, verdict, store",
            f"{report['chosen_lr']:g}",
            epochs(final),
            metric(final["val_loss"]),
            seconds(final["wall_time_s"]),
            "",
        ]
    )
    met = "met" if report["call_s"] <= report["target_s"] else "missed"
    rows.append(
        [
            "click to forecast, in all",
            "",
            "",
            "",
            seconds(report["call_s"]),
            f"≤ {report['target_s']:g} s ({met})",
        ]
    )
    header = ["what was timed", "learning rate", "epochs", "validation loss", "time", "target"]
    after = (
        f"The stored run's test ({count(test['windows'])} windows): MSE {metric(test['mse'])}, MAE "
        f"{metric(test['mae'])}, skill {percent(test['skill'], signed=True)} against "
        f"{MODEL_NAMES.get(test['skill_against'], test['skill_against'])}, coverage "
        f"{percent(test['coverage_80'])} in the 80 % band and {percent(test['coverage_95'])} in the 95 % "
        "band."
    )
    return caption, table(header, rows), after


def model_load(report: dict) -> tuple[str, list[str], str]:
    before, after_run = report["load_before"]["1min"], report["load_after"]["1min"]
    waited = report["waited_for_load_s"]
    waited = (
        f" (after waiting {seconds(waited)} for it to fall below {report['load_limit']:g})" if waited else ""
    )
    caption = (
        f"{report['protocol']}; GGUF file {report['gguf_mb']:.0f} MiB, cache entry "
        f"{report['cache_entry_mb']:.0f} MiB; one-minute load average {before:.1f} at the start{waited} "
        f"and {after_run:.1f} at the end"
    )
    target = report["target_s"]

    def row(what: str, run: dict, target_cell: str = "") -> list[str]:
        imports = run["import_s"]
        return [
            what,
            seconds(run["load_s"]),
            seconds(run["hash_s"]),
            seconds(imports["total"] if isinstance(imports, dict) else imports),
            seconds(run["process_s"]),
            target_cell,
        ]

    def met(value: float) -> str:
        return f"≤ {target:g} s ({'met' if value <= target else 'missed'})"

    later = report["later"]
    rows = [row("first load, empty cache: de-quantise the GGUF file, save", report["first"])]
    rows += [
        row(f"later load {i}, from the cache", run, met(run["load_s"])) for i, run in enumerate(later, 1)
    ]
    rows.append(
        row(
            f"later loads, median of {len(later)}",
            report["later_median"],
            met(report["later_median"]["load_s"]),
        )
    )
    rows.append(row("GGUF file without the cache (every start before)", report["gguf_without_cache"]))
    header = ["load", "load call", "of which SHA-256", "imports", "whole process", "target"]
    return caption, table(header, rows), ""


QUICK_SETTINGS = {"moving_average": "moving-average parts", "stl": "STL parts per window"}


def quick_budget(report: dict) -> tuple[str, list[str], str]:
    """Each quick run's whole process against the target, beside the cost model's estimate and the
    test figures against seasonal naive; then fp32 against bf16 autocast on this CPU."""
    runs = report["runs"]
    loads = [run[key]["1min"] for run in runs for key in ("load_before", "load_after")]
    warm = {run["estimate"]["model_cache_warm"] for run in runs}
    cache = {frozenset({True}): "filled", frozenset({False}): "empty"}.get(frozenset(warm), "filled for some")
    caption = (
        f"{report['data']}'s target (features {report['features']}), L {report['look_back']}, "
        f"H {report['horizon']}, ETT borders, the bundled SmolLM2, `--budget quick`: each run one fresh "
        "`python -m core train` process, timed from outside from its start to its exit (imports, data, model "
        "load, training, validation and test on every window, bands, verdict, store). The estimate is the "
        "cost model's (`core.training.cost`), from a probe of the same run in a fresh process before it "
        f"(SmolLM2's model cache {cache}). One-minute load average {load_range(loads)} before and after "
        f"the runs; the runs had {', '.join(share(run['cpu_share']) for run in runs)} of the cores, other "
        f"processes {', '.join(share(run['others_cpu_share']) for run in runs)}"
    )
    again = sum(len(run["earlier_attempts"]) for run in runs)
    if again:
        caption += (
            f" ({again} run{'s' if again != 1 else ''} timed again after other processes took more than "
            "5 % of the cores)"
        )

    def settings(run: dict) -> str:
        found = run["settings"]
        if found["variant"] == "no_llm":
            what = ["no language model"]
        else:
            what = [backbone_label({"name": found["backbone"], "layers": found["layers"]})]
        if found["n_prototypes"]:
            what.append(f"V' {found['n_prototypes']}")
        if found["decomposition"]:
            what.append(QUICK_SETTINGS.get(found["decomposition"], found["decomposition"]))
        epochs = found["epochs"]
        what.append(f"{epochs} epoch{'s' if epochs != 1 else ''}, batch {found['batch_size']}")
        return ", ".join(what)

    def windows(run: dict) -> str:
        found = run["windows"]
        return (
            f"{count(found['train_per_epoch'])} of {count(found['train_available'])} / "
            f"{count(found['val'])} / {count(found['test'])}"
        )

    def target(run: dict) -> str:
        if run["within_target"] is None:
            return ""
        return f"≤ {seconds(report['target_s'])} ({'met' if run['within_target'] else 'missed'})"

    def estimate(run: dict) -> str:
        found = run["estimate"]
        told = f"{'at most ' if found['upper_bound'] else ''}{seconds(found['estimate_s'])}"
        over = run.get("estimate_over_actual")
        return f"{told} ({ratio(over)} the run)" if over else told

    header = [
        "model",
        "quick settings",
        "windows: training of all / validation / test",
        "estimate",
        "run, model build to stored",
        "whole process",
        "target",
        "test MSE / MAE",
        "seasonal naive MSE / MAE",
    ]
    rows = [
        [
            MODEL_NAMES.get(run["model"], run["model"]),
            settings(run),
            windows(run),
            estimate(run),
            seconds(run["run_wall_time_s"]),
            seconds(run["process_s"]),
            target(run),
            f"{metric(run['test']['mse'])} / {metric(run['test']['mae'])}",
            f"{metric(run['baselines']['snaive']['mse'])} / {metric(run['baselines']['snaive']['mae'])}",
        ]
        for run in runs
    ]
    found = report["precision"]
    flags = report["machine"]["cpu_flags"]
    has = [label for flag, label in (("avx2", "AVX2"), ("avx512f", "AVX-512")) if flags.get(flag)]
    lacks = [
        label for flag, label in (("avx512_bf16", "AVX-512 BF16"), ("amx_bf16", "AMX")) if not flags.get(flag)
    ]

    def timed(setting: dict) -> str:
        per_batch = {
            name: timing["seconds"] / timing["batches"] for name, timing in setting["timings"].items()
        }
        label = backbone_label({"name": found["backbone"], "layers": setting["layers"]})
        return (
            f"{label}{' (quick)' if setting['quick'] else ''}: {seconds(per_batch['fp32'])} a batch in fp32, "
            f"{seconds(per_batch['bf16'])} under bf16 autocast, {ratio(setting['bf16_over_fp32'])} as long"
        )

    batches = found["settings"][0]["timings"]["fp32"]["batches"]
    after = (
        f"Precision on this CPU ({', '.join(has) or 'no AVX2'}; "
        f"{'no ' + ' or '.join(lacks) if lacks else 'native bf16'}): Time-LLM's forward pass over "
        f"{batches} batches of {found['batch_size']} validation windows on {found['threads']} threads, "
        f"{'; '.join(timed(setting) for setting in found['settings'])}. `auto` precision picks fp32 here."
    )
    if "decomposition" in report:
        parts = report["decomposition"]
        windows, taken = sum(parts["windows"].values()), parts["seconds"]
        after += (
            f" Decomposing the quick TEMPO run's {count(windows)} look-back windows (its training share, "
            f"every validation and test window) took {seconds(taken['stl'])} by per-window STL "
            f"({parts['ms_per_window']['stl']:.2f} ms a window) and {seconds(taken['moving_average'])} by "
            f"the moving average; the quick budget uses {QUICK_SETTINGS[parts['quick_decomposition']]}."
        )
    tried = report.get("alternatives") or []
    if tried:
        chosen = {run["model"]: run for run in runs}
        lines = [
            [
                MODEL_NAMES.get(model, model),
                what,
                seconds(run["process_s"]),
                metric(run["val_loss"]),
                f"{metric(run['test']['mse'])} / {metric(run['test']['mae'])}",
            ]
            for model, what, run in [
                *(
                    (run["model"], "the quick budget", run)
                    for run in runs
                    if run["model"] in ("time_llm", "tempo")
                ),
                *((run["model"], run["tried"], run) for run in tried),
            ]
            if run["model"] in chosen
        ]
        after += (
            "\n\nThe settings the quick budget was chosen over, each the same command with flags (the "
            "validation loss, with the time, decides; the test figures are shown, not used):\n\n"
            + "\n".join(
                table(
                    ["model", "settings", "whole process", "validation loss (MSE)", "test MSE / MAE"], lines
                )
            )
        )
    return caption, table(header, rows), after


SPEED: list[tuple[str, str, str, Callable[[dict], tuple[str, list[str], str]]]] = [
    ("foundation.json", "bench/bench_foundation.py", "Page and STL speed", foundation_speed),
    (
        "foundation.json",
        "bench/bench_foundation.py --part pages",
        "Page speed, against a page that does nothing",
        page_speed,
    ),
    (
        "cpu_precision.json",
        "bench/bench_cpu_precision.py",
        "One training step on the CPU by precision",
        cpu_precision,
    ),
    ("gpu_precision.json", "bench/gpu_precision.py", "Training steps on a GPU by precision", gpu_precision),
    ("time_llm_speed.json", "bench/bench_time_llm.py", "Time-LLM training throughput", time_llm_speed),
    (
        "time_llm_vs_neuralforecast.json",
        "bench/bench_time_llm_vs_neuralforecast.py",
        "Time-LLM against neuralforecast's TimeLLM at equal architecture, training speed",
        versus_neuralforecast_speed,
    ),
    ("tempo_speed.json", "bench/bench_tempo.py --part speed", "TEMPO training throughput", tempo_speed),
    ("proxy_speed.json", "bench/bench_proxy.py --part speed", "Proxy-tuned decoding speed", proxy_speed),
    (
        "numeric_pretrain.json",
        "bench/pretrain_numeric.py",
        "Pretraining the numeric Llama of proxy decoding",
        numeric_pretrain,
    ),
    (
        "numeric_pretrain_fresh_clone.json",
        "make pretrain-numeric in a fresh clone",
        "Pretraining the numeric Llama again, from a fresh clone",
        numeric_pretrain,
    ),
    (
        "proxy_tuning.json",
        "bench/bench_proxy.py --part tune",
        "Tuning proxy decoding's expert: every weight or LoRA, at equal time",
        proxy_tuning,
    ),
    ("one_click.json", "bench/bench_one_click.py", "One-click forecast on the home page", one_click),
    ("model_load.json", "bench/bench_model_load.py", "Loading the bundled SmolLM2", model_load),
    (
        "quick_budget.json",
        "bench/bench_quick_budget.py",
        "Quick runs of the language-model methods",
        quick_budget,
    ),
]


# ------------------------------------------------------------------------------------ intervals
# How a row's bands were calibrated: the method every run uses, and what a bench reports beside it.
CALIBRATIONS = {
    ("rolling", True): "split conformal, rolled forward through the test windows (the method)",
    ("validation_only", False): "validation windows only; reported, not chosen: the method was fixed "
    "before any test coverage was seen",
}


def calibration_label(entry: dict) -> str:
    key = (entry["calibration"], entry["chosen"])
    if key not in CALIBRATIONS:
        raise Shape(f"no words for the calibration {key}")
    return CALIBRATIONS[key]


def intervals(report: dict) -> tuple[str, list[str], str]:
    """Coverage of each calibration against its nominal level, then the verdict of each run."""
    rows = report["rows"]
    settings = {(row["model"], row["features"], row["look_back"], row["horizon"]) for row in rows}
    described = "; ".join(
        f"{MODEL_NAMES.get(m, m)}, features {f}, L {lb}, H {h}" for m, f, lb, h in sorted(settings)
    )
    caption = (
        f"{described}, the runs of the accuracy table above. Bands are calibrated on absolute residuals per "
        "horizon step and channel; coverage is the share of the test values (every window, step and "
        "channel) inside the band, beside its nominal level; widths are upper minus lower, in "
        "standardised units"
    )
    coverage = [
        [
            row["data"],
            calibration_label(entry),
            count(entry["calibration_windows"]),
            percent(entry["coverage_80"]),
            percent(entry["coverage_95"]),
            f"{metric(entry['mean_width_80'])} / {metric(entry['mean_width_95'])}",
        ]
        for row in rows
        for entry in row["intervals"]
    ]
    names = ["naive", "snaive", "naive2"]
    verdicts = [
        [
            row["data"],
            metric(row["metrics"]["mase"]),
            *[metric(row["baselines"][name]["mase"]) if name in row["baselines"] else "–" for name in names],
            f"{percent(row['skill'], signed=True)} against "
            + MODEL_NAMES.get(row["skill_against"], row["skill_against"]),
            percent(row["baselines"][row["skill_against"]]["model_wins"]),
        ]
        for row in rows
    ]
    seasons = sorted({row["season"] for row in rows})
    lines = table(
        [
            "data",
            "calibration",
            "calibration windows",
            "coverage, 80 % band",
            "coverage, 95 % band",
            "mean width, 80 % / 95 %",
        ],
        coverage,
    )
    lines += [""] + table(
        [
            "data",
            "MASE",
            *[f"{MODEL_NAMES[name]} MASE" for name in names],
            "skill (1 − MASE / baseline's)",
            "test windows the model wins",
        ],
        verdicts,
    )
    after = (
        f"MASE against the seasonal naive error of the training rows (m {', '.join(map(str, seasons))}), "
        "averaged over channels; the baselines forecast the same test windows."
    )
    return caption, lines, after


INTERVALS: list[tuple[str, str, str, Callable[[dict], tuple[str, list[str], str]]]] = [
    ("intervals.json", "bench/bench_intervals.py", "Split-conformal bands and the verdict", intervals),
]


# -------------------------------------------------------------------------------------------- section


def block(
    title: str, script: str, name: str, report: dict, caption: str, lines: list[str], after=""
) -> list[str]:
    run = f", run {report['date']}" if report["date"] else ""
    head = f"**{title}** (`{script}` → `bench/results/{name}`{run})"
    out = [head + (f": {caption}" if caption else "."), "", *lines]
    return out + (["", after] if after else []) + [""]


def accuracy_blocks(name: str, script: str, title: str, caption, report: dict) -> dict[str, list[str]]:
    """The file's rows in one table per kind of metrics ("mse" or "smape"), or its own table."""
    if isinstance(caption, OwnTable):
        return {caption.kind: speed_block(name, script, title, caption.render, report)}
    rows = [row for row in report["rows"] if not repeated_proxy(row, report)]
    text = caption(report) if callable(caption) else caption
    machine = machine_label(report["machine"])
    out = {}
    for key, kind in KINDS.items():
        chosen = [row for row in rows if key in row["metrics"]]
        if chosen:
            out[key] = block(title, script, name, report, text, accuracy_table(chosen, kind, machine))
    if not out:
        raise Shape(f"no rows with {' or '.join(KINDS)} among their metrics")
    return out


def speed_block(name: str, script: str, title: str, render, report: dict) -> list[str]:
    caption, lines, after = render(report)
    caption += f"; machine: {machine_label(report['machine'])}."
    return block(title, script, name, report, caption, lines, after)


ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError, Shape)


def describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no {error.args[0]!r} entry (an older shape?)"
    if isinstance(error, Shape):
        return str(error)
    return f"unexpected shape ({type(error).__name__}: {error})"


def machines(reports: dict[str, dict]) -> list[str]:
    """One line per machine (platform string), with what the files recorded about it."""
    by_platform: dict[str, dict] = {}
    for name, report in sorted(reports.items()):
        info = report.get("machine")
        if not isinstance(info, dict):
            continue
        entry = by_platform.setdefault(
            str(info.get("platform", "unknown platform")),
            {"cpu_count": set(), "gpu": set(), "flags": set(), "torch": set(), "files": []},
        )
        for key in ("cpu_count", "gpu", "torch"):
            if info.get(key):
                entry[key].add(info[key])
        entry["flags"] |= {label for flag, label in CPU_FLAGS.items() if info.get(flag)}
        entry["files"].append(name)
    lines = []
    for platform, entry in sorted(by_platform.items()):
        facts = [f"`{platform}`", *[f"{cores} cores" for cores in sorted(entry["cpu_count"])]]
        facts += sorted(entry["gpu"])
        if entry["flags"]:
            facts.append(" and ".join(sorted(entry["flags"], reverse=True)))
        facts += [f"torch {version}" for version in sorted(entry["torch"])]
        lines.append(f"- {', '.join(facts)}: {', '.join(f'`{name}`' for name in entry['files'])}.")
    return lines


def published_lines() -> list[str]:
    rows = [
        [
            entry["label"],
            entry["data"],
            entry["setting"],
            str(entry["horizon"]) if entry["horizon"] else "average of 96–720",
            f"{metric(entry['mse'])} / {metric(entry['mae'])}",
            SHORT_SOURCE[entry["source"]],
        ]
        for entry in PUBLISHED_WINDOWS
    ]
    rows += [
        [
            entry["label"],
            "M4 Hourly",
            f"all {M4_HOURLY['series']} series, H {M4_HOURLY['horizon']}, m {M4_HOURLY['season']}",
            str(M4_HOURLY["horizon"]),
            f"sMAPE {metric(entry['smape'])} %, MASE {metric(entry['mase'])}, OWA {metric(entry['owa'])}",
            SHORT_SOURCE[entry["source"]],
        ]
        for entry in PUBLISHED_M4
    ]
    lines = [
        "### Published figures",
        "",
        "Copied into `bench/render_results.py` from the papers; not measured here. The papers' long-term "
        "tables drop the last incomplete test batch and train to convergence; our rows say which windows "
        "they scored and what budget they had. Horizon averages match no row above.",
        "",
        *table(["model", "data", "setting", "horizon", "MSE / MAE or M4 metrics", "source"], rows),
        "",
    ]
    used = sorted({entry["source"] for entry in PUBLISHED_WINDOWS + PUBLISHED_M4}, key=list(SOURCES).index)
    return lines + [f"- {SHORT_SOURCE[key]}: {SOURCES[key]}." for key in used]


def scripts() -> dict[str, str]:
    """Every file the section reads, with the script that writes it."""
    return {name: script for name, script, *_ in ACCURACY + INTERVALS + SPEED}


def read(results: Path, notes: list[str]) -> dict[str, dict]:
    """The results files the section uses, by name; a note for each that is not there or not JSON."""
    reports = {}
    for name, script in scripts().items():
        path = results / name
        if not path.exists():
            needs = " (it needs a CUDA device)" if name == "gpu_precision.json" else ""
            notes.append(f"`{name}` is not there: `{script}` has not written it{needs}")
            continue
        try:
            report = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            notes.append(f"`{name}` was skipped: it is not readable JSON ({type(error).__name__})")
            continue
        if not isinstance(report, dict):
            notes.append(f"`{name}` was skipped: it holds no JSON object")
            continue
        reports[name] = report
    return reports


def render(results: Path) -> tuple[str, list[str]]:
    """The section's Markdown (without the markers) and the notes about files left out."""
    notes: list[str] = []
    reports = read(results, notes)
    sections: dict[str, list[str]] = {key: [] for key in [*KINDS, "intervals", "speed"]}
    for name, script, title, caption in ACCURACY:
        if name in reports:
            try:
                for key, lines in accuracy_blocks(name, script, title, caption, reports[name]).items():
                    sections[key] += lines
            except ERRORS as error:
                notes.append(f"`{name}` (accuracy) was skipped: {describe(error)}")
    for name, script, title, bands in INTERVALS:
        if name in reports:
            try:
                sections["intervals"] += speed_block(name, script, title, bands, reports[name])
            except ERRORS as error:
                notes.append(f"`{name}` (intervals) was skipped: {describe(error)}")
    for name, script, title, speed in SPEED:
        if name in reports:
            try:
                sections["speed"] += speed_block(name, script, title, speed, reports[name])
            except ERRORS as error:
                notes.append(f"`{name}` (speed) was skipped: {describe(error)}")
    notes += [
        f"`{path.name}` was skipped: no renderer reads it"
        for path in sorted(results.glob("*.json"))
        if path.name not in scripts()
    ]

    out = [
        f"Rendered by `{COMMAND}` from `bench/results/*.json`, the files the benchmark scripts write; "
        "do not edit it by hand (the tests compare it with the JSON). MSE and MAE are on values "
        "standardised with the training rows' statistics (no unit); sMAPE is in per cent; MASE and OWA "
        "have no unit; times are wall-clock. Published figures for the same model, data set, features and "
        "horizon stand beside ours where the papers have them (sources at the end).",
        "",
    ]
    headings = {key: kind.heading for key, kind in KINDS.items()}
    headings |= {"intervals": "### Prediction intervals and the verdict", "speed": "### Speed"}
    for key, lines in sections.items():
        if lines:
            out += [headings[key], "", *lines]
    out += published_lines()
    machine_lines = machines(reports)
    if machine_lines:
        out += ["", "Machines, as the JSON files describe them:", "", *machine_lines]
    if notes:
        out += ["", "Not rendered:", "", *[f"- {note}." for note in notes]]
    return "\n".join(out), notes


def replace_section(readme: str, section: str) -> str:
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"README has no `{START}` … `{END}` markers: add them where the section belongs.")
    return readme[: start + len(START)] + "\n" + section + "\n" + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when README's section is out of date")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)

    section, notes = render(args.results)
    for note in notes:
        print(f"note: {note.replace('`', '')}")
    readme = args.readme.read_text()
    updated = replace_section(readme, section)
    if args.check:
        if updated != readme:
            print(
                f"{args.readme.name}'s results section differs from what {args.results} renders: "
                f"run `{COMMAND}` and commit the README it writes."
            )
            return 1
        print(f"{args.readme.name}'s results section matches {args.results}.")
        return 0
    if updated != readme:
        args.readme.write_text(updated)
        print(f"rewrote the results section of {args.readme}")
    else:
        print(f"{args.readme} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
