"""Render bench/results/*.json into README.md's results section, so that every figure there came from a run.

The section lies between `<!-- results:start -->` and `<!-- results:end -->`; nothing outside the
markers is touched. Accuracy rows state the model, the data set, the protocol (features, look-back L,
horizon H, split, windows or series scored, training budget), the precision, the machine, the metrics
and the wall time where the JSON has it, beside the published figure for the same model, data set and
horizon where one exists (PUBLISHED below, copied from the papers). Speed results get tables of their
own: what was timed, the time, the throughput and a ratio.

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
import re
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
# Repeating the last value under the standard protocol, features M: (data, look-back, horizon,
# windows scored, MSE, MAE); "drop32" drops the last incomplete test batch of 32, "all" keeps it.
PROTOCOL_CHECKS = [
    ("ETTh1", 96, 96, "drop32", 1.295, 0.713),
    ("ETTh1", 96, 96, "all", 1.294, 0.713),
    ("ETTh1", 96, 192, "drop32", 1.325, 0.733),
    ("ILI", 36, 24, "all", 6.213, 1.622),
]
SCORED = {"drop32": "last test batch of 32 dropped", "all": "every test window"}
# Each entry's `match` says which of our rows it sits beside (the same model, data set, features and
# horizon; for the checks also the look-back and the windows scored); averages match no row.
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
        "setting": f"features M, L {look_back}, {SCORED[scored]}",
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
            "scored": scored,
        },
    }
    for data, look_back, horizon, scored, mse, mae in PROTOCOL_CHECKS
]

PUBLISHED_M4 = [
    {"model": model, "label": label, "smape": smape, "mase": mase, "owa": owa, "source": "m4"}
    for model, label, smape, mase, owa in [
        ("naive2", "Naive2", 18.383, 2.395, 1.000),
        ("snaive", "seasonal naive", 13.912, 1.193, 0.628),
        ("naive", "naive", 43.003, 11.608, 3.593),
    ]
]
M4_HOURLY = {"horizon": 48, "season": 24, "series": 414}  # the competition's definition of the group

MODEL_NAMES = {
    "naive": "naive (repeat last value)",
    "snaive": "seasonal naive",
    "naive2": "Naive2",
    "mean": "mean",
    "dlinear": "DLinear",
    "patchtst": "PatchTST",
    "time_llm": "Time-LLM",
    "time_llm_no_llm": "Time-LLM ablation: no LLM",
    "time_llm_llm_to_attention": "Time-LLM ablation: LLM → one attention layer",
    "time_llm_random_init": "Time-LLM ablation: random-weight LLM",
    "tempo": "TEMPO (semi-soft prompts)",
    "tempo_no_prompt": "TEMPO ablation: no prompts",
    "tempo_no_decomposition": "TEMPO ablation: no decomposition",
}
BACKBONE_NAMES = {"smollm2-135m": "SmolLM2-135M", "minilm-l6": "MiniLM-L6", "gpt2": "GPT-2"}
SPLITS = {
    "ett-hour": "ETT borders (12/4/4 months)",
    "ratio": "70/10/20 split",
}


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
    return minutes(value / 60)


def minutes(value) -> str:
    value = float(value)
    if value < 100 / 60:
        return seconds(value * 60)
    return f"{value:.1f} min"


def ratio(value) -> str:
    value = float(value)
    return f"{value:.1f}×" if value >= 10 else f"{value:.2f}×" if value >= 0.1 else f"{value:.3f}×"


def gib(mebibytes) -> str:
    return f"{float(mebibytes) / 1024:.1f} GiB"


def share(value) -> str:
    return f"{100 * float(value):.0f} %"


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


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def day(report: dict) -> str:
    for key in ("when", "started_at", "finished_at"):
        found = re.match(r"\d{4}-\d{2}-\d{2}", str(report.get(key, "")))
        if found:
            return found.group(0)
    return ""


def machine_label(info: dict) -> str:
    """A short description of the machine a JSON was measured on (its `machine` facts)."""
    if not isinstance(info, dict):
        raise Shape("no machine facts")
    if info.get("gpu"):
        return str(info["gpu"])
    cores = info.get("cpu_count") or info.get("threads")
    arch = info.get("processor") or next(
        iter(re.findall(r"x86_64|aarch64|arm64", str(info.get("platform", "")))), ""
    )
    if not cores and not arch:
        raise Shape("no machine facts")
    return " ".join(part for part in (f"{cores}-core" if cores else "", arch, "CPU") if part)


def find(pattern: str, text: str, what: str) -> str:
    found = re.search(pattern, text)
    if not found:
        raise Shape(f"the protocol does not name the {what}")
    return found.group(1)


def window_protocol(text: str) -> dict:
    """Features, look-back and horizon from a benchmark's `protocol` sentence."""
    return {
        "features": find(r"features (\w+)", text, "features"),
        "features_text": find(r"features (\w+(?: \(\w+\))?)", text, "features"),
        "look_back": int(find(r"\bL (\d+)", text, "look-back")),
        "horizon": int(find(r"\bH (\d+)", text, "horizon")),
    }


def protocol_words(text: str) -> str:
    parsed = window_protocol(text)
    data = find(r"^(\w+)", text, "data set")
    return f"{data}, features {parsed['features']}, L {parsed['look_back']}, H {parsed['horizon']}"


def published_window(row: dict) -> str:
    for entry in PUBLISHED_WINDOWS:
        if entry["match"] and all(row.get(key) == value for key, value in entry["match"].items()):
            return (
                f"{metric(entry['mse'])} / {metric(entry['mae'])} "
                f"({entry['label']}, L {entry['look_back']}; {SHORT_SOURCE[entry['source']]})"
            )
    return "–"


def published_m4(model: str, series: int) -> str:
    if series != M4_HOURLY["series"]:
        return "–"
    for entry in PUBLISHED_M4:
        if entry["model"] == model:
            figures = " / ".join(metric(entry[key]) for key in ("smape", "mase", "owa"))
            return f"{figures} ({SHORT_SOURCE[entry['source']]})"
    return "–"


def model_name(key: str) -> str:
    return MODEL_NAMES.get(key, key)


# --------------------------------------------------------------------------------------------- blocks


@dataclass
class Block:
    """One table with its caption: `kind` is "window", "m4" or "speed"."""

    kind: str
    title: str
    source: str
    caption: str
    lines: list[str]
    after: str = ""

    def render(self) -> list[str]:
        head = f"**{self.title}** ({self.source})"
        out = [head + (f": {self.caption}" if self.caption else "."), "", *self.lines]
        if self.after:
            out += ["", self.after]
        return out


def source(script: str, name: str, report: dict) -> str:
    when = day(report)
    return f"`{script}` → `bench/results/{name}`" + (f", run {when}" if when else "")


WINDOW_HEADER = ["model", "data", "protocol", "precision", "machine", "MSE", "MAE", "wall time"]
PUBLISHED_HEADER = "published MSE / MAE, same model, data, features and H"
M4_HEADER = ["model", "data", "protocol", "precision", "machine", "sMAPE (%)", "MASE", "OWA", "wall time"]


def window_table(rows: list[dict], extras: list[str]) -> list[str]:
    header = WINDOW_HEADER + extras + [PUBLISHED_HEADER]
    cells = [
        [
            row["model_label"],
            row["data"],
            row["protocol"],
            row["precision"],
            row["machine"],
            metric(row["mse"]),
            metric(row["mae"]),
            row.get("wall", "–"),
            *[row.get(extra, "–") for extra in extras],
            published_window(row),
        ]
        for row in rows
    ]
    return table(header, cells)


def m4_table(rows: list[dict], extras: list[str]) -> list[str]:
    header = M4_HEADER + extras + ["published sMAPE / MASE / OWA, all 414 series"]
    cells = [
        [
            row["model_label"],
            "M4 Hourly",
            row["protocol"],
            row["precision"],
            row["machine"],
            metric(row["smape"]),
            metric(row["mase"]),
            metric(row["owa"]),
            row.get("wall", "–"),
            *[row.get(extra, "–") for extra in extras],
            published_m4(row["model"], row["series"]),
        ]
        for row in rows
    ]
    return table(header, cells)


# ------------------------------------------------------------------------------------------ renderers


def foundation_accuracy(report: dict, name: str) -> list[Block]:
    machine = machine_label(report["machine"])
    precision = "float64" if "float64" in str(report.get("precision", "")) else str(report["precision"])
    windows, m4 = [], []
    for key, scores in report["reference_scores"].items():
        long_term = re.fullmatch(r"(\w+?)_(naive|snaive|mean)_L(\d+)_H(\d+)_(drop32|all)", key)
        if long_term:
            data, model, look_back, horizon, scored = long_term.groups()
            protocol = "ett-hour" if data.startswith("ETT") else "ratio"
            wording = "the last batch of 32 dropped" if scored == "drop32" else "every window"
            windows.append(
                {
                    "model": model,
                    "model_label": model_name(model),
                    "data": data,
                    "features": "M",  # bench_foundation.py scores every channel
                    "look_back": int(look_back),
                    "horizon": int(horizon),
                    "scored": scored,
                    "protocol": f"features M, L {look_back}, H {horizon}, {SPLITS[protocol]}, "
                    f"{int(scores['windows']):,} test windows ({wording}); no training",
                    "precision": precision,
                    "machine": machine,
                    "mse": scores["mse"],
                    "mae": scores["mae"],
                }
            )
            continue
        group = re.fullmatch(r"M4_Hourly_(\w+)", key)
        if not group:
            raise Shape(f"unknown reference score {key!r}")
        series = int(scores["series"])
        m4.append(
            {
                "model": group.group(1),
                "model_label": model_name(group.group(1)),
                "series": series,
                "protocol": f"H {M4_HOURLY['horizon']}, m {M4_HOURLY['season']}, all {series} series; "
                "OWA against Naive2",
                "precision": precision,
                "machine": machine,
                **{metric_name: scores[metric_name] for metric_name in ("smape", "mase", "owa")},
            }
        )
    where = source("bench/bench_foundation.py", name, report)
    blocks = []
    if windows:
        blocks.append(
            Block(
                "window",
                "Reference baselines of the long-term protocol",
                where,
                "the forecast repeats each window's last value; nothing is trained.",
                window_table(windows, []),
            )
        )
    if m4:
        blocks.append(Block("m4", "Reference baselines of M4 Hourly", where, "", m4_table(m4, [])))
    return blocks


def trained_rows(report: dict, models: dict, protocol_text: str, budget: Callable[[dict], str]) -> list[dict]:
    parsed = window_protocol(protocol_text)
    split = SPLITS["ett-hour"] if "ett-hour" in protocol_text else SPLITS["ratio"]
    data = find(r"^(\w+)", protocol_text, "data set")
    machine = machine_label(report["machine"])
    rows = []
    for key, result in models.items():
        windows = int(result["windows"])
        rows.append(
            {
                "model": key,
                "model_label": model_name(key),
                "data": data,
                **parsed,
                "scored": "all",
                "protocol": f"features {parsed['features_text']}, L {parsed['look_back']}, "
                f"H {parsed['horizon']}, {split}, {windows:,} test windows, best-validation checkpoint; "
                f"{budget(result)}",
                "precision": str(result["precision"]),
                "machine": machine,
                "mse": result["test_mse"],
                "mae": result["test_mae"],
                "wall": minutes(result["minutes"])
                if "minutes" in result
                else seconds(result["train_and_test_s"]),
                "trainable": count(result["trainable_params"]) if "trainable_params" in result else "–",
            }
        )
    return rows


def baselines(report: dict, name: str) -> list[Block]:
    models = {key: value for key, value in report.items() if isinstance(value, dict) and "test_mse" in value}
    if not models:
        raise Shape("no model results")

    def budget(result):
        config = result["train_config"]
        return (
            f"{result['epochs_run']} epochs (best {result['best_epoch']}), batch {config['batch_size']}, "
            f"lr {config.get('max_lr', config['lr'])} {config['schedule']}"
        )

    rows = trained_rows(report, models, report["protocol"], budget)
    for row in rows:
        row["wall"] += " (train + test)"
    return [
        Block(
            "window",
            "Trainable baselines",
            source("bench/bench_baselines.py", name, report),
            "each model with its own training defaults, through the project's one training loop.",
            window_table(rows, []),
        )
    ]


def budget_blocks(title: str, script: str, caption: str, trainable: bool):
    def render(report: dict, name: str) -> list[Block]:
        epochs, batch = int(report["epochs"]), int(report["batch_size"])
        text = report["protocol"]
        backbone = re.search(r"(SmolLM2-135M with \d+ layers)", text)
        rows = trained_rows(
            report,
            report["models"],
            text,
            lambda result: (
                f"{epochs} epoch{'s' if epochs != 1 else ''} over every training window, batch {batch}"
            ),
        )
        for row in rows:
            if backbone and (row["model"] == "time_llm" or row["model"].startswith("tempo")):
                row["model_label"] += f", {backbone.group(1)}"
            row["wall"] += " (train + test)"
        extras = []
        if trainable:
            extras = ["trainable parameters"]
            for row in rows:
                row["trainable parameters"] = row["trainable"]
        return [Block("window", title, source(script, name, report), caption, window_table(rows, extras))]

    return render


def versus_neuralforecast_accuracy(report: dict, name: str) -> list[Block]:
    text = report["protocol"]
    parsed = window_protocol(text)
    steps, per_step = (
        find(r"(\d+) training steps of", text, "steps"),
        find(r"training steps of (\d+) univariate", text, "windows per step"),
    )
    starts = report["test_window_starts"]
    stride = starts[1] - starts[0]
    backbone = find(r"backbone (\S+ first \d+ layers)", text, "backbone")
    machine = machine_label(report["machine"])
    version = report["machine"].get("neuralforecast", "")
    rows = []
    for key, label in (
        ("ours", "Time-LLM (this project)"),
        ("neuralforecast", f"neuralforecast {version} TimeLLM"),
    ):
        result = report[key]
        test = result["test"]
        rows.append(
            {
                "model": f"time_llm_{key}",
                "model_label": f"{label}, {backbone.replace('smollm2-135m', 'SmolLM2-135M')}",
                "data": "ETTh1",
                **parsed,
                "protocol": f"features {parsed['features']}, L {parsed['look_back']}, H {parsed['horizon']}, "
                f"{SPLITS['ett-hour']}, every {stride}th test window ({int(test['windows'])} × "
                f"{int(test['forecasts']) // int(test['windows'])} channels = {int(test['forecasts'])} "
                f"forecasts); {steps} steps of {per_step} windows, Adam, no validation",
                "precision": str(result["precision"]),
                "machine": machine,
                "mse": test["mse"],
                "mae": test["mae"],
                "wall": f"{minutes(result['training_minutes'])} training + {seconds(test['seconds'])} test",
                "training loss (last 10 steps)": metric(result["train_loss_last10"]),
            }
        )
    return [
        Block(
            "window",
            "Time-LLM against neuralforecast's TimeLLM, accuracy",
            source("bench/bench_time_llm_vs_neuralforecast.py", name, report),
            "the same backbone tensors and scaled data for both; one seed.",
            window_table(rows, ["training loss (last 10 steps)"]),
        )
    ]


def proxy_label(key: str, settings: dict) -> str:
    base = BACKBONE_NAMES.get(settings["base"], settings["base"])
    small = BACKBONE_NAMES.get(settings["small"], settings["small"])
    if key == "base alone":
        return f"{base} alone (base)"
    if key == "expert alone":
        return f"{small}, {settings['small_layers']} layers, LoRA-tuned (expert) alone"
    alpha = re.fullmatch(r"proxy, alpha ([\d.]+)", key)
    if alpha:
        return f"proxy-tuned {base}, α {alpha.group(1)}"
    return model_name(key)


def proxy_rows(report: dict, protocol: str, fields: tuple[str, ...]) -> tuple[list[dict], str]:
    settings = report["settings"]
    machine = machine_label(report["machine"])
    decode, tuned = report["decode_precision"], report["expert"]["train_precision"]
    rows = []
    for key, result in report["rows"].items():
        language_model = "nll_per_step" in result
        rows.append(
            {
                "model": key,
                "model_label": proxy_label(key, settings),
                "protocol": protocol,
                "precision": f"{decode} decoding (expert tuned in {tuned})" if language_model else "float64",
                "machine": machine,
                **{field: result[field] for field in fields},
                "NLL per step": f"{float(result['nll_per_step']):.2f}" if language_model else "–",
            }
        )
    expert = report["expert"]
    note = (
        f"{settings['samples']} samples at temperature {settings['temperature']}, top-p {settings['top_p']}, "
        f"the median as the forecast. Per-row times were not recorded: the whole run took "
        f"{seconds(report['wall_s'])}, of which tuning the expert ({expert['epochs_run']} epochs) "
        f"{seconds(expert['train_s'])}."
    )
    return rows, note


def proxy_ili(report: dict, name: str) -> list[Block]:
    text = report["protocol"]
    look_back = int(find(r"look-back (\d+)", text, "look-back"))
    horizon = int(find(r"horizon (\d+)", text, "horizon"))
    scored, total = (
        find(r"(\d+) of \d+ test windows", text, "windows"),
        find(r"of (\d+) test", text, "windows"),
    )
    target = find(r"target (\w+)", report["data"], "target")
    protocol = (
        f"features S ({target}), L {look_back}, H {horizon}, {SPLITS['ratio']}, {scored} of {total} test "
        "windows, evenly spaced"
    )
    rows, note = proxy_rows(report, protocol, ("mse", "mae"))
    for row in rows:
        row.update(data="ILI", features="S", look_back=look_back, horizon=horizon, scored=f"{scored}/{total}")
    return [
        Block(
            "window",
            "Proxy-tuned decoding on ILI",
            source("bench/bench_proxy.py --part ili", name, report),
            note,
            window_table(rows, ["NLL per step"]),
        )
    ]


def proxy_m4(report: dict, name: str) -> list[Block]:
    horizon = int(find(r"horizon (\d+)", report["data"], "horizon"))
    season = int(find(r"season (\d+)", report["data"], "season"))
    total = int(find(r"\((\d+) series\)", report["data"], "series"))
    names = report["series"]
    context = find(r"trimmed to a ([\d,]+)-token context", report["protocol"], "context")
    protocol = (
        f"H {horizon}, m {season}, {len(names)} of {total} series ({', '.join(names)}), each from its "
        f"training part cut to {context} tokens; OWA against Naive2 on the same series"
    )
    rows, note = proxy_rows(report, protocol, ("smape", "mase", "owa"))
    for row in rows:
        row["series"] = len(names)
    for key, result in report.get("baselines_all_414", {}).items():
        rows.append(
            {
                "model": key,
                "model_label": model_name(key),
                "series": total,
                "protocol": f"H {horizon}, m {season}, all {total} series; OWA against Naive2",
                "precision": "float64",
                "machine": rows[0]["machine"],
                **{field: result[field] for field in ("smape", "mase", "owa")},
            }
        )
    return [
        Block(
            "m4",
            "Proxy-tuned decoding on M4 Hourly",
            source("bench/bench_proxy.py --part m4", name, report),
            note,
            m4_table(rows, ["NLL per step"]),
        )
    ]


def foundation_speed(report: dict, name: str) -> list[Block]:
    page, stl = report["page"], report["stl"]
    points = int(stl["points"])
    rows = [
        [
            "Data page, first AppTest run in a fresh process, ETTh1 loaded",
            seconds(page["data_page_first_run_fresh_process_s"]),
            "",
            "",
            f"< {float(page['target_s']):g} s",
        ],
        [
            "Data page, a new session's first run in a warm process",
            seconds(page["data_page_first_run_warm_process_s"]),
            "",
            "",
            "",
        ],
    ]
    for period in (24, 168):
        for kind in ("robust", "plain"):
            ours = stl[f"period_{period}_{kind}_project_s"]
            exact = stl[f"period_{period}_{kind}_statsmodels_exact_s"]
            rows.append(
                [
                    f"STL of ETTh1 `OT` ({points:,} points), period {period}, {kind}",
                    seconds(ours),
                    seconds(exact),
                    f"{ratio(exact / ours)} faster",
                    f"< {float(stl['target_s']):g} s" if (period, kind) == (24, "robust") else "",
                ]
            )
    difference = stl["period_24_robust_mean_abs_difference"]
    after = (
        f"Our STL against the exact fit (period 24, robust): mean absolute difference "
        f"{metric(difference['trend'])} in the trend and {metric(difference['seasonal'])} in the seasonal "
        f"component (whose standard deviation is {metric(difference['seasonal_std'])})."
    )
    return [
        Block(
            "speed",
            "Page and STL speed",
            source("bench/bench_foundation.py", name, report),
            f"medians of repeated runs; machine: {machine_label(report['machine'])}.",
            table(["what was timed", "time", "statsmodels exact LOESS", "ratio", "target"], rows),
            after,
        )
    ]


def cpu_precision(report: dict, name: str) -> list[Block]:
    batch = int(find(r"^(\d+) windows", report["batch"], "batch"))
    rows = []
    for model in ("patchtst", "dlinear"):
        steps = report[model]["step_s"]
        for precision, step in steps.items():
            rows.append(
                [
                    model_name(model),
                    precision if precision == "fp32" else f"{precision} autocast",
                    seconds(step),
                    rate(batch / step),
                    ratio(steps["fp32"] / step),
                ]
            )
    return [
        Block(
            "speed",
            "One training step on the CPU by precision",
            source("bench/bench_cpu_precision.py", name, report),
            f"{report['batch']}; medians of 10 steps; machine: {machine_label(report['machine'])}.",
            table(["model", "precision", f"step (batch {batch})", "windows/s", "speed vs fp32"], rows),
        )
    ]


def time_llm_speed(report: dict, name: str) -> list[Block]:
    batch = int(find(r"batch (\d+)", report["protocol"], "batch"))
    settings = report["settings"]
    fp32 = {(s["backbone"], s["seq_len"]): s["windows_per_s"] for s in settings if s["precision"] == "fp32"}
    rows = [
        [
            f"{BACKBONE_NAMES.get(s['backbone'], s['backbone'])} ({s['layers']} layers)",
            str(s["seq_len"]),
            s["precision"],
            seconds(s["median_step_s"]),
            rate(s["windows_per_s"]),
            ratio(s["windows_per_s"] / fp32[(s["backbone"], s["seq_len"])]),
            share(s["prototype_map_share"]),
            f"{s['prompt_tokens']} + {s['patches']}",
            gib(s["peak_rss_mb"]),
            share(s["cpu_share"]),
        ]
        for s in settings
    ]
    header = [
        "backbone",
        "look-back",
        "precision",
        f"step (batch {batch})",
        "training windows/s",
        "speed vs fp32",
        "V → V' map, share of a step",
        "prompt + patch tokens",
        "peak RSS",
        "CPU share",
    ]
    return [
        Block(
            "speed",
            "Time-LLM training throughput",
            source("bench/bench_time_llm.py", name, report),
            f"{report['protocol']}; machine: {machine_label(report['machine'])}.",
            table(header, rows),
        )
    ]


def versus_neuralforecast_speed(report: dict, name: str) -> list[Block]:
    per_step = int(find(r"training steps of (\d+) univariate", report["protocol"], "windows per step"))
    runs = [("ours", report["ours"]), ("neuralforecast", report["neuralforecast"])]
    extra = report.get("extra_timing_only", {})
    runs += [(key.rsplit("_", 1)[0], value) for key, value in extra.items()]
    theirs = {
        result["precision"]: result["univariate_windows_per_s"]
        for who, result in runs
        if who == "neuralforecast"
    }
    version = report["machine"].get("neuralforecast", "")
    rows = []
    for who, result in runs:
        precision = result.get("lightning_precision", result["precision"])
        speed = result["univariate_windows_per_s"]
        rows.append(
            [
                "this project" if who == "ours" else f"neuralforecast {version}",
                precision if precision != "32-true" else "fp32",
                f"{result['timed_steps']} of {result['steps']}",
                seconds(result["median_step_s"]),
                rate(speed),
                ratio(speed / theirs[result["precision"]]),
                f"{float(result['prompt_tokens']['per_sequence_mean']):.0f}",
                gib(result["peak_rss_mb"]),
                share(result["cpu_share"]),
            ]
        )
    shares = ", ".join(f"{who} {share(result['cpu_share'])}" for who, result in runs[:2])
    after = (
        f"`speed_comparable` is {str(report['speed_comparable']).lower()} in the JSON "
        f"(it is true when both fp32 runs had a CPU share of at least 90 %; here {shares})."
    )
    if report["neuralforecast"].get("backbone_check", {}).get("equal"):
        after += " The backbone's tensors were checked equal in both models."
    header = [
        "implementation",
        "precision",
        "steps timed",
        f"step ({per_step} windows)",
        "univariate windows/s",
        "speed vs neuralforecast",
        "prompt tokens per sequence",
        "peak RSS",
        "CPU share",
    ]
    return [
        Block(
            "speed",
            "Time-LLM against neuralforecast's TimeLLM, training speed",
            source("bench/bench_time_llm_vs_neuralforecast.py", name, report),
            f"{protocol_words(report['protocol'])}, the same backbone; "
            f"machine: {machine_label(report['machine'])}.",
            table(header, rows),
            after,
        )
    ]


def tempo_speed(report: dict, name: str) -> list[Block]:
    batch = int(find(r"batch (\d+)", report["protocol"], "batch"))
    settings = report["settings"]
    fp32 = next(s["windows_per_s"] for s in settings if s["precision"] == "fp32")
    rows = [
        [
            s["precision"],
            seconds(s["median_step_s"]),
            rate(s["windows_per_s"]),
            ratio(s["windows_per_s"] / fp32),
            f"{s['sequence_tokens']} ({s['prompt_tokens']} prompt, 3 × {s['patches_per_part']} patches)",
            f"{seconds(s['stl_fresh_batch_s'])} / {seconds(s['stl_cached_batch_s'])}",
            f"{count(s['trainable_params'])} of {count(s['total_params'])}",
            gib(s["peak_rss_mb"]),
            share(s["cpu_share"]),
        ]
        for s in settings
    ]
    header = [
        "precision",
        f"step (batch {batch})",
        "training windows/s",
        "speed vs fp32",
        "tokens per sequence",
        "STL of a batch, fresh / cached",
        "trainable parameters",
        "peak RSS",
        "CPU share",
    ]
    return [
        Block(
            "speed",
            "TEMPO training throughput",
            source("bench/bench_tempo.py --part speed", name, report),
            f"{report['protocol']}; machine: {machine_label(report['machine'])}.",
            table(header, rows),
        )
    ]


def proxy_speed(report: dict, name: str) -> list[Block]:
    rows_in = report["rows"]
    reference = {
        (r["configuration"], r["samples"], r["horizon"]): r["tokens_per_s"]
        for r in rows_in
        if r["precision"] == "fp32" and r["kv_cache"]
    }
    labels = {"base": "base alone", "expert": "expert alone", "proxy": "proxy (base, expert, anti-expert)"}
    rows = [
        [
            labels.get(r["configuration"], r["configuration"]),
            r["precision"] if r["precision"] == "fp32" else f"{r['precision']} autocast",
            "yes" if r["kv_cache"] else "no",
            f"{r['samples']} × {r['horizon']}",
            str(r["prompt_tokens"]),
            f"{r['sampled_tokens']:,}",
            seconds(r["decode_s"]),
            rate(r["tokens_per_s"]),
            ratio(r["tokens_per_s"] / reference[(r["configuration"], r["samples"], r["horizon"])]),
        ]
        for r in rows_in
    ]
    same = report.get("same_samples_with_and_without_cache", {})
    after = ""
    if same:
        drawn = ", ".join(f"{key} {'yes' if value else 'no'}" for key, value in same.items())
        after = f"Same samples drawn from the same seed with and without the caches: {drawn}."
    header = [
        "decoding",
        "precision",
        "KV caches",
        "samples × horizon",
        "prompt tokens",
        "sampled tokens",
        "decoding time",
        "tokens/s",
        "vs fp32 with caches",
    ]
    return [
        Block(
            "speed",
            "Proxy-tuned decoding speed",
            source("bench/bench_proxy.py --part speed", name, report),
            f"{report['setup']}; machine: {machine_label(report['machine'])}.",
            table(header, rows),
            after,
        )
    ]


def gpu_precision(report: dict, name: str) -> list[Block]:
    runs = {}
    for key, value in report.items():
        found = re.fullmatch(r"batch_(\d+)_(fp32|fp16|bf16)", key)
        if found:
            runs[(int(found.group(1)), found.group(2))] = value
    if not runs:
        raise Shape("no batch_<size>_<precision> results")
    rows = [
        [
            str(batch),
            precision,
            f"{float(result['median_step_ms']):.1f} ms",
            rate(result["samples_per_s"]),
            ratio(result["samples_per_s"] / runs[(batch, "fp32")]["samples_per_s"]),
            gib(result["peak_memory_mb"]),
            str(result["skipped_steps"]),
        ]
        for (batch, precision), result in runs.items()
    ]
    machine = (
        f"{report['gpu']} (compute capability {report['capability']}), torch {report['torch']}, "
        f"CUDA {report['cuda']}"
    )
    return [
        Block(
            "speed",
            "Training steps on a GPU by precision",
            source("bench/gpu_precision.py", name, report),
            f"{report['model']}; machine: {machine}.",
            table(
                [
                    "batch",
                    "precision",
                    "median step",
                    "windows/s",
                    "speed vs fp32",
                    "peak memory",
                    "skipped steps",
                ],
                rows,
            ),
        )
    ]


# What each results file holds and who renders it, in the order the section shows them.
RENDERERS: list[tuple[str, str, Callable[[dict, str], list[Block]]]] = [
    ("foundation.json", "accuracy", foundation_accuracy),
    ("baselines.json", "accuracy", baselines),
    (
        "time_llm_ablations.json",
        "accuracy",
        budget_blocks(
            "Time-LLM and its ablations on a CPU budget",
            "bench/bench_time_llm_ablations.py",
            "one epoch is a budget, not convergence; DLinear under the same protocol is the yardstick.",
            trainable=False,
        ),
    ),
    (
        "tempo_accuracy.json",
        "accuracy",
        budget_blocks(
            "TEMPO and its ablations on a CPU budget",
            "bench/bench_tempo.py --part accuracy",
            "STL per window at period 24, LoRA r 16; the same budget as Time-LLM's ablations.",
            trainable=True,
        ),
    ),
    ("time_llm_vs_neuralforecast.json", "accuracy", versus_neuralforecast_accuracy),
    ("proxy_ili.json", "accuracy", proxy_ili),
    ("proxy_m4_hourly.json", "accuracy", proxy_m4),
    ("foundation.json", "speed", foundation_speed),
    ("cpu_precision.json", "speed", cpu_precision),
    ("gpu_precision.json", "speed", gpu_precision),
    ("time_llm_speed.json", "speed", time_llm_speed),
    ("time_llm_vs_neuralforecast.json", "speed", versus_neuralforecast_speed),
    ("tempo_speed.json", "speed", tempo_speed),
    ("proxy_speed.json", "speed", proxy_speed),
]
# The script that writes each file, for the note when a file is not there.
SCRIPTS = {
    "foundation.json": "bench/bench_foundation.py",
    "baselines.json": "bench/bench_baselines.py",
    "time_llm_ablations.json": "bench/bench_time_llm_ablations.py",
    "tempo_accuracy.json": "bench/bench_tempo.py --part accuracy",
    "time_llm_vs_neuralforecast.json": "bench/bench_time_llm_vs_neuralforecast.py",
    "proxy_ili.json": "bench/bench_proxy.py --part ili",
    "proxy_m4_hourly.json": "bench/bench_proxy.py --part m4",
    "cpu_precision.json": "bench/bench_cpu_precision.py",
    "gpu_precision.json": "bench/gpu_precision.py",
    "time_llm_speed.json": "bench/bench_time_llm.py",
    "tempo_speed.json": "bench/bench_tempo.py --part speed",
    "proxy_speed.json": "bench/bench_proxy.py --part speed",
}
ERRORS = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ZeroDivisionError,
    StopIteration,
    Shape,
)


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
        info = report.get("machine") if isinstance(report.get("machine"), dict) else None
        if info is None and report.get("gpu"):
            info = {
                "platform": report.get("platform", ""),
                "gpu": report["gpu"],
                "torch": report.get("torch"),
            }
        if not info:
            continue
        entry = by_platform.setdefault(
            str(info.get("platform", "unknown platform")),
            {"cores": set(), "flags": set(), "torch": set(), "gpu": set(), "files": []},
        )
        if info.get("cpu_count"):
            entry["cores"].add(int(info["cpu_count"]))
        for flag, label in (("avx512_bf16", "AVX-512 BF16"), ("amx_bf16", "AMX BF16")):
            if info.get(flag):
                entry["flags"].add(label)
        if info.get("torch"):
            entry["torch"].add(str(info["torch"]))
        if info.get("gpu"):
            entry["gpu"].add(str(info["gpu"]))
        entry["files"].append(name)
    lines = []
    for platform, entry in sorted(by_platform.items()):
        facts = [f"`{platform}`"]
        facts += [f"{cores} cores" for cores in sorted(entry["cores"])]
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
    lines += [f"- {SHORT_SOURCE[key]}: {SOURCES[key]}." for key in used]
    return lines


def render(results: Path) -> tuple[str, list[str]]:
    """The section's Markdown (without the markers) and the notes about files left out."""
    notes: list[str] = []
    reports: dict[str, dict] = {}
    blocks: list[Block] = []
    known = [name for name, _, _ in RENDERERS]
    for name in dict.fromkeys(known):
        path = results / name
        if not path.exists():
            needs = " (it needs a CUDA device)" if name == "gpu_precision.json" else ""
            notes.append(f"`{name}` is not there: `{SCRIPTS[name]}` has not written it{needs}")
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
    for name, part, renderer in RENDERERS:
        if name not in reports:
            continue
        try:
            blocks += renderer(reports[name], name)
        except ERRORS as error:
            notes.append(f"`{name}` ({part}) was skipped: {describe(error)}")
    for path in sorted(results.glob("*.json")):
        if path.name not in known:
            notes.append(f"`{path.name}` was skipped: no renderer reads it")

    out = [
        f"Rendered by `{COMMAND}` from `bench/results/*.json`, the files the benchmark scripts write; "
        "do not edit it by hand (the tests compare it with the JSON). MSE and MAE are on values "
        "standardised with the training rows' statistics (no unit); sMAPE is in per cent; MASE and OWA "
        "have no unit; times are wall-clock. Published figures for the same model, data set, features and "
        "horizon stand beside ours where the papers have them (sources at the end).",
        "",
    ]
    sections = [
        ("window", "### Accuracy: long-term windows (MSE / MAE)"),
        ("m4", "### Accuracy: M4 Hourly (sMAPE / MASE / OWA)"),
        ("speed", "### Speed"),
    ]
    for kind, heading in sections:
        chosen = [block for block in blocks if block.kind == kind]
        if not chosen:
            continue
        out += [heading, ""]
        for block in chosen:
            out += [*block.render(), ""]
    out += published_lines()
    machine_lines = machines({name: reports[name] for name in reports})
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
