"""README's results section is what bench/render_results.py renders from bench/results/*.json.

So every figure a reader sees in that section came from a benchmark run; a file in an older shape
or a broken one is left out with a note instead of stopping the rendering.
"""

import json
import shutil

import pytest

from bench import render_results

from .conftest import ROOT


def _baselines(mse=0.41234, mae=0.40111, seconds=12.5):
    return {
        "protocol": "ETTh1, features M, L 336, H 96, ett-hour borders, every test window, best checkpoint",
        "machine": {"platform": "Linux-x86_64-test", "cpu_count": 4, "torch": "2.0", "threads": 4},
        "dlinear": {
            "test_mse": mse,
            "test_mae": mae,
            "windows": 2785,
            "train_and_test_s": seconds,
            "epochs_run": 10,
            "best_epoch": 9,
            "precision": "fp32",
            "train_config": {"epochs": 10, "batch_size": 32, "lr": 0.005, "schedule": "cosine"},
        },
    }


def _m4(smape=15.5, mase=1.25, owa=0.75):
    return {
        "when": "2030-01-02 03:04:05 UTC",
        "machine": {"platform": "Linux-x86_64-test", "processor": "x86_64", "cpu_count": 4},
        "precision": "float64 throughout",
        "reference_scores": {
            "ETTh1_naive_L96_H96_drop32": {
                "mse": 1.2951,
                "mae": 0.7133,
                "windows": 2784,
                "dropped_windows": 1,
            },
            "M4_Hourly_snaive": {"smape": smape, "mase": mase, "owa": owa, "series": 414},
        },
        "page": {},  # an older shape: no timings, so the speed table is left out
    }


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "baselines.json").write_text(json.dumps(_baselines()))
    (folder / "foundation.json").write_text(json.dumps(_m4()))
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
    assert "features M, L 336, H 96" in protocol and "2,785 test windows" in protocol
    assert "10 epochs (best 9)" in protocol
    assert (mse, mae) == ("0.412", "0.401")
    assert wall == "12.5 s (train + test)"
    assert published == "0.375 / 0.399 (DLinear, L 336; Zeng et al. 2023)"

    naive = _rows(text, "naive (repeat last value)")
    assert [row[5:7] for row in naive] == [["1.295", "0.713"]]
    assert naive[0][-1].startswith("1.295 / 0.713")
    snaive = _rows(text, "seasonal naive")
    assert snaive[0][5:8] == ["15.500", "1.250", "0.750"]
    assert snaive[0][-1] == "13.912 / 1.193 / 0.628 (Makridakis et al. 2020)"
    assert "run 2030-01-02" in text

    # Broken, older and unknown files are left out with a note; the rest still renders.
    joined = "\n".join(notes)
    assert "`tempo_speed.json` was skipped: it is not readable JSON" in joined
    assert "`time_llm_ablations.json` (accuracy) was skipped: no 'epochs' entry (an older shape?)" in joined
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
    assert (row[5], row[7]) == ("0.0512", "5.0 min (train + test)")


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


def test_published_figures_are_copied_with_a_source():
    for entry in render_results.PUBLISHED_WINDOWS + render_results.PUBLISHED_M4:
        assert entry["source"] in render_results.SOURCES
    patchtst = [
        e for e in render_results.PUBLISHED_WINDOWS if e["label"] == "PatchTST/64" and e["horizon"] == 96
    ]
    assert (patchtst[0]["mse"], patchtst[0]["mae"], patchtst[0]["look_back"]) == (0.370, 0.400, 512)
