"""README's results section is what bench/render_results.py renders from bench/results/*.json.

So every figure a reader sees in that section came from a benchmark run; a file in an older shape
or a broken one is left out with a note instead of stopping the rendering. The renderer reads the
fields the benches write (bench.common.accuracy_row and the speed files' fields), never their prose.
"""

import json
import shutil

import pytest

from bench import render_results
from bench.common import accuracy_row
from tests.conftest import ROOT

MACHINE = {
    "platform": "Linux-x86_64-test",
    "arch": "x86_64",
    "cpu_count": 4,
    "avx512_bf16": False,
    "amx_bf16": False,
    "gpu": None,
    "torch": "2.0",
    "threads": 4,
}
# Keys whose values are sentences for people reading the JSON (at any depth).
PROSE = {"protocol", "data_description", "noise", "memory", "note", "differences", "example"}
PROSE |= {"precision_reason", "when", "started_at", "finished_at"}
DUMMY = "a sentence the renderer must not read"


def _baselines(mse=0.41234, mae=0.40111, seconds=12.5):
    return {
        "protocol": "ETTh1, features M, L 336, H 96, ett-hour borders, every test window, best checkpoint",
        "date": None,
        "machine": MACHINE,
        "rows": [
            accuracy_row(
                "dlinear",
                "ETTh1",
                features="M",
                look_back=336,
                horizon=96,
                split="ett-hour",
                windows=2785,
                checkpoint="best_validation",
                budget={"epochs": 10, "best_epoch": 9, "batch_size": 32, "lr": 0.005, "schedule": "cosine"},
                precision="fp32",
                metrics={"mse": mse, "mae": mae},
                wall_time_s=seconds,
            )
        ],
    }


def _foundation(smape=15.5, mase=1.25, owa=0.75):
    return {
        "when": "2030-01-02 03:04:05 UTC",
        "date": "2030-01-02",
        "machine": {key: value for key, value in MACHINE.items() if key not in ("torch", "threads")},
        "rows": [
            accuracy_row(
                "naive",
                "ETTh1",
                features="M",
                look_back=96,
                horizon=96,
                split="ett-hour",
                scored="drop_last_batch",
                windows=2784,
                precision="float64",
                metrics={"mse": 1.2951, "mae": 0.7133},
                test_batch_size=32,
            ),
            accuracy_row(
                "snaive",
                "M4 Hourly",
                horizon=48,
                season=24,
                series=414,
                precision="float64",
                metrics={"smape": smape, "mase": mase, "owa": owa},
            ),
        ],
        "page": {},  # an older shape: no timings, so the speed table is left out
    }


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "baselines.json").write_text(json.dumps(_baselines()))
    (folder / "foundation.json").write_text(json.dumps(_foundation()))
    (folder / "tempo_speed.json").write_text("{ this is not json")
    (folder / "time_llm_ablations.json").write_text(json.dumps({"protocol": "ETTh1, features S"}))
    (folder / "scratch.json").write_text("{}")
    return folder


@pytest.fixture
def readme(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(
        "# Project\n\nintro\n\n## Results\n\n"
        f"{render_results.START}\nold\n{render_results.END}\n\n## Layout\n"
    )
    return path


def _rows(text: str, first_cell: str) -> list[list[str]]:
    """Our rows whose first cell is `first_cell` (the list of published figures left out)."""
    ours = text.split("### Published figures")[0]
    return [
        [cell.strip() for cell in line.strip("|").split(" | ")]
        for line in ours.splitlines()
        if line.startswith(f"| {first_cell} ")
    ]


def _without_prose(value, sentences: list[str]):
    """`value` with every sentence under a PROSE key replaced by DUMMY; the sentences go to `sentences`."""
    if isinstance(value, dict):
        return {
            key: _dummy(item, sentences) if key in PROSE else _without_prose(item, sentences)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_without_prose(item, sentences) for item in value]
    return value


def _dummy(value, sentences: list[str]):
    if isinstance(value, list):
        return [_dummy(item, sentences) for item in value]
    if isinstance(value, str):
        sentences.append(value)
        return DUMMY
    return value


def test_readme_section_is_the_rendering_of_the_committed_json(capsys):
    status = render_results.main(["--check"])
    assert status == 0, capsys.readouterr().out


def test_readme_section_sits_between_one_pair_of_markers():
    text = (ROOT / "README.md").read_text()
    assert text.count(render_results.START) == 1 and text.count(render_results.END) == 1
    assert text.index(render_results.START) < text.index(render_results.END)
    assert "`python bench/render_results.py`" in text


def test_synthetic_json_gives_rows_with_the_expected_values(results):
    text, notes = render_results.render(results)
    dlinear = _rows(text, "DLinear")
    assert len(dlinear) == 1
    model, data, protocol, precision, machine, mse, mae, wall, published = dlinear[0]
    assert (model, data, precision, machine) == ("DLinear", "ETTh1", "fp32", "4-core x86_64 CPU")
    assert "features M, L 336, H 96" in protocol and "all 2,785 test windows" in protocol
    assert "10 epochs (best 9), batch 32, lr 0.005 cosine" in protocol
    assert (mse, mae) == ("0.412", "0.401")
    assert wall == "12.5 s"
    assert published == "0.375 / 0.399 (DLinear, L 336; Zeng et al. 2023)"

    naive = _rows(text, "naive (repeat last value)")
    assert [row[5:7] for row in naive] == [["1.295", "0.713"]]
    assert "2,784 test windows (the last batch of 32 dropped)" in naive[0][2]
    assert naive[0][-1].startswith("1.295 / 0.713")
    snaive = _rows(text, "seasonal naive")
    assert snaive[0][2] == "H 48, m 24, all 414 series"
    assert snaive[0][5:8] == ["15.500", "1.250", "0.750"]
    assert snaive[0][-1] == "13.912 / 1.193 / 0.628 (Makridakis et al. 2020)"
    assert "run 2030-01-02" in text

    # Broken, older and unknown files are left out with a note; the rest still renders.
    joined = "\n".join(notes)
    assert "`tempo_speed.json` was skipped: it is not readable JSON" in joined
    assert "`time_llm_ablations.json` (accuracy) was skipped: no 'rows' entry (an older shape?)" in joined
    assert "`foundation.json` (speed) was skipped" in joined
    assert "`scratch.json` was skipped: no renderer reads it" in joined
    assert "`proxy_speed.json` is not there" in joined
    assert "Not rendered:" in text and "### Speed" not in text


def test_rendering_is_deterministic(results):
    assert render_results.render(results) == render_results.render(results)


def test_a_changed_figure_changes_the_row(results):
    (results / "baselines.json").write_text(json.dumps(_baselines(mse=0.0512345, seconds=300)))
    text, _ = render_results.render(results)
    row = _rows(text, "DLinear")[0]
    assert (row[5], row[7]) == ("0.0512", "5.0 min")


def _page(page, data, cold, first_visit, again, rerun, judged="first_visit_s", loads=(4.0, 5.3)):
    return {
        "page": page,
        "data": data,
        "cold_s": cold,
        "first_visit_s": first_visit,
        "again_s": again,
        "rerun_s": rerun,
        "load_1min": list(loads),
        "judged": judged,
    }


def _pages(explore_visit=1.5, browser=True):
    """foundation.json with page timings: the empty page, two pages, one interaction, the browser."""
    report = _foundation()
    report["pages"] = {
        "when": "2030-01-02 03:04:05 UTC",
        "date": "2030-01-03",
        "protocol": "AppTest and Chromium, medians",
        "target_s": 2.0,
        "repeats": 3,
        "cpu_count": 2,
        "load_before": {"1min": 4.5, "5min": 4.0, "15min": 3.0},
        "load_after": {"1min": 5.5, "5min": 4.2, "15min": 3.1},
        "reference": _page("empty", None, 1.0, 0.01, 0.2, 0.01, judged=None, loads=(4.4, 4.4)),
        "cases": [
            _page("home", "ETTh1", 3.0, 0.5, 0.3, 0.1, judged="cold_s"),
            _page("explore", "ETTh2", 9.0, explore_visit, 0.4, 0.02),
        ],
        "interactions": [
            {
                "page": "explore",
                "data": "ETTh1",
                "action": "stl_period",
                "times_s": {"168": 1.2, "48": 0.9, "12": 0.8},
                "median_s": 0.9,
                "slowest": "168",
                "slowest_s": 1.2,
            }
        ],
        "stored_runs": [
            {"model": "dlinear", "features": "M", "look_back": 96, "horizon": 96, "epochs": 1},
            {"model": "stemgnn", "features": "M", "look_back": 96, "horizon": 96, "epochs": 2},
        ],
        "etth2": {"file": "ETTh2.csv", "rows": 17420, "channels": 7, "source": "ETDataset"},
        "browser": {
            "app": {"heading": "1. Load a series", "first_s": 5.0, "second_s": 3.0, "server_start_s": 1.5},
            "reference": {
                "heading": "A page that does nothing",
                "first_s": 2.5,
                "second_s": 2.0,
                "server_start_s": 1.0,
            },
        }
        if browser
        else None,
    }
    if browser:
        report["pages"]["browser"]["app"]["judged"] = "first_s"
    return report


def test_page_timings_render_in_seconds_and_against_the_empty_page(results):
    (results / "foundation.json").write_text(json.dumps(_pages()))
    text, notes = render_results.render(results)
    assert not [note for note in notes if "pages" in note]
    assert (
        "**Page speed, against a page that does nothing** (`bench/bench_foundation.py --part pages` → "
        "`bench/results/foundation.json`, run 2030-01-02): this part measured 2030-01-03; medians of 3 "
        "processes" in text
    )
    assert "the stored runs: DLinear (M, L 96, H 96, 1 epoch), StemGNN (M, L 96, H 96, 2 epochs)" in text
    assert "one-minute load 4.5 at the start and 5.5 at the end on 2 cores" in text
    assert (
        "| a page that does nothing (`bench/empty_page.py`) | 1.00 s | 10 ms | 0.20 s | 10 ms | 4.4 |  |"
        in text
    )
    assert _rows(text, "Start here,") == [
        [
            "Start here, ETTh1",
            "3.00 s (3.00×)",
            "0.50 s (50.0×)",
            "0.30 s (1.50×)",
            "0.10 s (10.0×)",
            "4.0–5.3",
            "≤ 2 s, cold: missed",
        ]
    ]
    assert _rows(text, "Explore, ETTh2") == [
        [
            "Explore, ETTh2",
            "9.00 s (9.00×)",
            "1.50 s (150.0×)",
            "0.40 s (2.00×)",
            "20 ms (2.00×)",
            "4.0–5.3",
            "≤ 2 s, first visit: met",
        ]
    ]
    assert _rows(text, "Explore, ETTh1: a new STL cycle length") == [
        [
            "Explore, ETTh1: a new STL cycle length",
            "168 1.20 s, 48 0.90 s, 12 0.80 s",
            "0.90 s (90.0×)",
            "168: 1.20 s (120.0×)",
            "≤ 2 s, slowest: met",
        ]
    ]
    browser = _rows(text, "a new server's first visitor")
    assert browser == [
        [
            "a new server's first visitor (`1. Load a series` / `A page that does nothing`)",
            "5.00 s",
            "2.50 s",
            "2.00×",
            "≤ 2 s, first visitor: missed",
        ]
    ]
    assert _rows(text, "a second visitor")[0][1:4] == ["3.00 s", "2.00 s", "1.50×"]

    (results / "foundation.json").write_text(json.dumps(_pages(explore_visit=2.5, browser=False)))
    text, notes = render_results.render(results)
    assert _rows(text, "Explore, ETTh2")[0][2::4] == ["2.50 s (250.0×)", "≤ 2 s, first visit: missed"]
    assert "a new server's first visitor" not in text and not [n for n in notes if "pages" in n]


def test_committed_foundation_file_renders_its_page_timings():
    text, notes = render_results.render(ROOT / "bench" / "results")
    assert not [note for note in notes if "foundation.json" in note]
    assert "**Page speed, against a page that does nothing**" in text
    assert len(_rows(text, "Explore, ETTh2")) == 1


def test_rendering_reads_fields_never_the_prose_beside_them(tmp_path):
    """With every sentence in the committed JSON replaced, the section changes only where a sentence
    was shown as it is (a speed table's caption): nothing was parsed out of one."""
    assert not hasattr(render_results, "re")
    committed = ROOT / "bench" / "results"
    expected, notes = render_results.render(committed)
    folder = tmp_path / "results"
    folder.mkdir()
    sentences: list[str] = []
    for path in committed.glob("*.json"):
        report = _without_prose(json.loads(path.read_text()), sentences)
        (folder / path.name).write_text(json.dumps(report))
    assert len(sentences) > 10
    text, dummied_notes = render_results.render(folder)
    assert dummied_notes == notes
    for sentence in sorted(set(sentences), key=len, reverse=True):
        expected = expected.replace(sentence, DUMMY)
    assert text == expected


def test_a_new_accuracy_bench_renders_through_the_one_table(results, monkeypatch):
    shared = dict(
        checkpoint="best_validation",
        budget={"epochs": 3, "best_epoch": 2, "batch_size": 32, "lr": 0.001, "schedule": "cosine"},
        precision="fp32",
    )
    rows = [
        accuracy_row(
            "graph_model",
            "ETTh1",
            features="M",
            look_back=96,
            horizon=96,
            split="ett-hour",
            windows=2785,
            metrics={"mse": 0.5, "mae": 0.45},
            wall_time_s=30.0,
            trainable_params=12_345,
            **shared,
        ),
        accuracy_row(
            "attention_model",
            "ILI",
            features="S",
            target="OT",
            look_back=36,
            horizon=24,
            split="ratio",
            windows=170,
            metrics={"mse": 2.5, "mae": 1.1},
            **shared,
        ),
    ]
    report = {"protocol": "anything", "date": "2030-02-03", "machine": MACHINE, "rows": rows}
    (results / "new_models.json").write_text(json.dumps(report))
    registered = ("new_models.json", "bench/bench_new.py", "New models", "beside DLinear.")
    monkeypatch.setattr(render_results, "ACCURACY", [*render_results.ACCURACY, registered])
    text, notes = render_results.render(results)
    assert not [note for note in notes if "new_models.json" in note]
    assert "**New models** (`bench/bench_new.py` → `bench/results/new_models.json`, run 2030-02-03)" in text
    graph, attention = _rows(text, "graph_model")[0], _rows(text, "attention_model")[0]
    assert graph[1] == "ETTh1" and graph[5:] == ["0.500", "0.450", "30.0 s", "12.3 k", "–"]
    assert graph[2] == (
        "features M, L 96, H 96, ETT borders (12/4/4 months), all 2,785 test windows, best-validation "
        "checkpoint; 3 epochs (best 2), batch 32, lr 0.001 cosine"
    )
    assert attention[1] == "ILI" and attention[2].startswith("features S (OT), L 36, H 24, 70/10/20 split")
    assert attention[5:] == ["2.500", "1.100", "–", "–", "–"]


def test_a_gpu_file_renders_its_speed_table(results):
    rows = [
        {"batch_size": 128, "precision": precision, "median_step_ms": ms, "samples_per_s": 128000 / ms}
        | {"peak_memory_mb": 2048.0, "skipped_steps": 0, "val_loss_finite": True}
        for precision, ms in (("fp32", 20.0), ("bf16", 10.0))
    ]
    gpu = MACHINE | {"gpu": "Test GPU", "capability": "9.0", "bf16_supported": True, "cuda": "12.0"}
    report = {"protocol": "PatchTST at L 336", "date": "2030-01-03", "machine": gpu, "rows": rows}
    (results / "gpu_precision.json").write_text(json.dumps(report))
    text, notes = render_results.render(results)
    assert not [note for note in notes if "gpu_precision.json" in note]
    assert "PatchTST at L 336; torch 2.0, CUDA 12.0, capability 9.0; machine: Test GPU." in text
    assert "| 128 | bf16 | 10.0 ms | 12,800 | 2.00× | 2.0 GiB | 0 |" in text


def test_check_fails_when_the_section_is_edited_by_hand(tmp_path, results, readme, capsys):
    paths = ["--readme", str(readme), "--results", str(results)]
    assert render_results.main(["--check", *paths]) == 1  # the placeholder is not the rendering
    assert render_results.main(paths) == 0
    assert render_results.main(["--check", *paths]) == 0
    written = readme.read_text()
    assert written.startswith("# Project\n\nintro\n\n## Results\n\n") and written.endswith("\n\n## Layout\n")

    readme.write_text(written.replace("| 0.412 |", "| 0.399 |", 1))
    capsys.readouterr()
    assert render_results.main(["--check", *paths]) == 1
    assert "run `python bench/render_results.py`" in capsys.readouterr().out


def test_check_of_a_copy_of_the_real_readme_fails_after_a_hand_edit(tmp_path, capsys):
    copy = tmp_path / "README.md"
    shutil.copy(ROOT / "README.md", copy)
    paths = ["--readme", str(copy), "--results", str(ROOT / "bench" / "results")]
    assert render_results.main(["--check", *paths]) == 0
    text = copy.read_text()
    start = text.index(render_results.START)
    row = text.index("| PatchTST |", start)
    copy.write_text(text[:row] + text[row:].replace("| 0.373 |", "| 0.370 |", 1))
    capsys.readouterr()
    assert render_results.main(["--check", *paths]) == 1
    assert "run `python bench/render_results.py`" in capsys.readouterr().out


def test_check_fails_when_a_measured_figure_in_the_json_changes(tmp_path, capsys):
    folder = tmp_path / "results"
    shutil.copytree(ROOT / "bench" / "results", folder)
    report = json.loads((folder / "baselines.json").read_text())
    report["rows"][0]["metrics"]["mse"] += 0.01
    (folder / "baselines.json").write_text(json.dumps(report))
    assert render_results.main(["--check", "--results", str(folder)]) == 1
    assert "run `python bench/render_results.py`" in capsys.readouterr().out


def test_published_figures_are_copied_with_a_source():
    for entry in render_results.PUBLISHED_WINDOWS + render_results.PUBLISHED_M4:
        assert entry["source"] in render_results.SOURCES
    patchtst = [
        e for e in render_results.PUBLISHED_WINDOWS if e["label"] == "PatchTST/64" and e["horizon"] == 96
    ]
    assert (patchtst[0]["mse"], patchtst[0]["mae"], patchtst[0]["look_back"]) == (0.370, 0.400, 512)


def _intervals(calibration="validation_only", chosen=False):
    row = accuracy_row(
        "dlinear",
        "ETTh1",
        features="M",
        look_back=336,
        horizon=96,
        season=24,
        split="ett-hour",
        windows=2785,
        checkpoint="best_validation",
        budget={"epochs": 10, "best_epoch": 10, "batch_size": 32, "lr": 0.005, "schedule": "cosine"},
        precision="fp32",
        metrics={"mse": 0.371, "mae": 0.392, "mase": 0.95},
        wall_time_s=20.0,
        skill=0.094,
        skill_against="snaive",
        baselines={
            "naive": {"mse": 1.29, "mae": 0.71, "mase": 1.72, "model_wins": 0.97},
            "snaive": {"mse": 0.51, "mae": 0.43, "mase": 1.05, "model_wins": 0.739},
        },
        intervals=[
            {"calibration": "rolling", "chosen": True, "calibration_windows": 2785}
            | {"coverage_80": 0.8426, "mean_width_80": 1.4155, "coverage_95": 0.9581, "mean_width_95": 2.88},
            {"calibration": calibration, "chosen": chosen, "calibration_windows": 2785, "label": "words"}
            | {"coverage_80": 0.8859, "mean_width_80": 1.7032, "coverage_95": 0.9659, "mean_width_95": 3.3},
        ],
    )
    return {"protocol": "DLinear, ETTh1", "date": "2030-03-04", "machine": MACHINE, "rows": [row]}


def _one_click(call_s=48.25, waited=0.0):
    def run(lr, loss, epochs, best, seconds):
        figures = {"val_loss": loss, "epochs": epochs, "best_epoch": best, "wall_time_s": seconds}
        return {"lr": lr, "validation_only": True} | figures

    return {
        "protocol": "ETTh1, one click",
        "date": "2030-03-05",
        "machine": MACHINE,
        "data": "ETTh1",
        "target_s": 90.0,
        "waited_for_load_s": waited,
        "load_limit": 2.0,
        "load_before": {"1min": 1.52, "5min": 2.0, "15min": 2.5},
        "load_after": {"1min": 1.71, "5min": 1.9, "15min": 2.4},
        "call_s": call_s,
        "cpu_share": 0.93,
        "model": "dlinear",
        "features": "S",
        "target": "OT",
        "look_back": 336,
        "horizon": 24,
        "split": "ett-hour",
        "budget": {"epochs": 10, "patience": 2, "batch_size": 32, "schedule": "cosine"},
        "learning_rates": [0.0003, 0.001, 0.003],
        "chosen_lr": 0.001,
        "tries": [
            run(0.0003, 0.051, 10, 9, 12.0),
            run(0.001, 0.0432, 6, 4, 8.0),
            run(0.003, 0.049, 4, 2, 6.0),
        ],
        "final_run": {"wall_time_s": 20.5, "epochs": 6, "best_epoch": 4, "val_loss": 0.0432},
        "test": {"windows": 2857, "mse": 0.04, "mae": 0.152, "mase": 0.9, "skill": 0.21}
        | {"skill_against": "snaive", "coverage_80": 0.8123, "coverage_95": 0.9512},
    }


def test_intervals_render_each_calibration_beside_its_level_and_the_verdict(results):
    (results / "intervals.json").write_text(json.dumps(_intervals()))
    text, notes = render_results.render(results)
    assert not [note for note in notes if "intervals.json" in note]
    # The run itself goes through the one accuracy table, beside the published DLinear figure.
    dlinear = _rows(text, "DLinear")
    assert [row[1] for row in dlinear] == ["ETTh1", "ETTh1"]
    assert dlinear[1][5:7] == ["0.371", "0.392"] and "m 24" in dlinear[1][2]
    assert dlinear[1][-1] == "0.375 / 0.399 (DLinear, L 336; Zeng et al. 2023)"

    section = text.split("### Prediction intervals and the verdict")[1].split("### Published figures")[0]
    assert "**Split-conformal bands and the verdict** (`bench/bench_intervals.py` → " in section
    assert "DLinear, features M, L 336, H 96" in section
    coverage = [row for row in _rows(section, "ETTh1") if len(row) == 6]
    assert coverage == [
        [
            "ETTh1",
            render_results.CALIBRATIONS[("rolling", True)],
            "2,785",
            "84.3 %",
            "95.8 %",
            "1.415 / 2.880",
        ],
        [
            "ETTh1",
            "validation windows only; reported, not chosen: the method was fixed before any test coverage "
            "was seen",
            "2,785",
            "88.6 %",
            "96.6 %",
            "1.703 / 3.300",
        ],
    ]
    verdict = [row for row in _rows(section, "ETTh1") if len(row) == 7]
    assert verdict == [["ETTh1", "0.950", "1.720", "1.050", "–", "+9.4 % against seasonal naive", "73.9 %"]]
    assert "(m 24)" in section


def test_intervals_with_a_calibration_it_has_no_words_for_are_left_out(results):
    (results / "intervals.json").write_text(json.dumps(_intervals(calibration="weekly", chosen=True)))
    text, notes = render_results.render(results)
    assert any("`intervals.json` (intervals) was skipped: no words for the calibration" in n for n in notes)
    assert "### Prediction intervals" not in text
    assert len(_rows(text, "DLinear")) == 2  # its accuracy rows still render


def test_one_click_renders_each_try_the_chosen_run_and_the_total_against_its_target(results):
    (results / "one_click.json").write_text(json.dumps(_one_click()))
    text, notes = render_results.render(results)
    assert not [note for note in notes if "one_click.json" in note]
    assert "**One-click forecast on the home page** (`bench/bench_one_click.py` → " in text
    assert "ETTh1, DLinear, features S (OT), L 336, H 24 (the home page's default)" in text
    assert "3 learning rates tried on the validation split (10 epochs at most, patience 2, batch 32)" in text
    assert "One-minute load average 1.5 at the start and 1.7 at the end" in text
    assert "this process had a CPU 93 % of the time; machine: 4-core x86_64 CPU." in text
    assert "| try 2, validation only | 0.001 | 6 (best 4) | 0.0432 | 8.00 s |  |" in text
    assert (
        "| the chosen rate: train, test, bands, verdict, store | 0.001 | 6 (best 4) | 0.0432 | 20.5 s |  |"
        in text
    )
    assert "| click to forecast, in all |  |  |  | 48.2 s | ≤ 90 s (met) |" in text
    assert (
        "skill +21.0 % against seasonal naive, coverage 81.2 % in the 80 % band and 95.1 % in the 95 %"
        in text
    )

    (results / "one_click.json").write_text(json.dumps(_one_click(call_s=125.0, waited=1200.0)))
    text, _ = render_results.render(results)
    assert "load average 1.5 at the start (after waiting 20.0 min for it to fall below 2) and 1.7" in text
    assert "| click to forecast, in all |  |  |  | 2.1 min | ≤ 90 s (missed) |" in text


def test_committed_interval_and_one_click_files_render():
    _, notes = render_results.render(ROOT / "bench" / "results")
    assert not [note for note in notes if "intervals.json" in note or "one_click.json" in note]


def test_proxy_at_the_paper_alpha_is_one_row_when_validation_chose_it():
    report = json.loads((ROOT / "bench" / "results" / "proxy_ili.json").read_text())
    title = "Proxy-tuned decoding on ILI"

    def proxy_rows(report):
        lines = render_results.accuracy_blocks(
            "proxy_ili.json", "bench/bench_proxy.py --part ili", title, render_results.proxy_caption, report
        )["mse"]
        return [line for line in lines if line.startswith("| proxy-tuned decoding")]

    assert report["alpha"] == 1  # the committed run chose the paper's alpha
    rows = proxy_rows(report)
    assert len(rows) == 1 and "α 1 (chosen on validation)" in rows[0]

    report["alpha"] = 0.5
    for row in report["rows"]:
        if row.get("configuration") == "proxy":
            row["options"]["alpha"] = 0.5
    rows = proxy_rows(report)
    assert [("α 0.5 (chosen on validation)" in r, "α 1 (the paper's)" in r) for r in rows] == [
        (True, False),
        (False, True),
    ]
