"""The model cache: where it lives, what an entry is filed under, atomic writes, damaged entries rebuilt,
an unwritable cache ignored; and the bundled SmolLM2 read from it exactly as from its GGUF file."""

import hashlib
import json
import logging
import os
import shutil

import numpy as np
import pytest
import torch

from core.lm import cache
from core.lm import load as lm_load
from core.stats import prompt_text

KEY = cache.EntryKey("some-model", "1.0.0", "ab" * 32)

# ---------------------------------------------------------------------------------- the cache alone


def _write(key, root, files=None):
    staging = cache.stage(key, root)
    for name, data in (files or {"weights.bin": b"\x01" * 1000, "config.json": b"{}"}).items():
        (staging / name).write_bytes(data)
    return cache.commit(staging, key, root)


def _leftovers(root):
    return [path.name for path in root.rglob(".*")]


def test_the_root_is_the_variable_else_the_xdg_cache_else_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.ENVIRONMENT, str(tmp_path / "mine"))
    assert cache.cache_root() == tmp_path / "mine"
    monkeypatch.delenv(cache.ENVIRONMENT)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "forecast-dashboard" / "models"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not a valid XDG value: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_root() == tmp_path / "home" / ".cache" / "forecast-dashboard" / "models"


def test_the_source_file_is_hashed_with_sha256(tmp_path):
    data = os.urandom(3 << 20)
    (tmp_path / "file").write_bytes(data)
    assert cache.file_sha256(tmp_path / "file") == hashlib.sha256(data).hexdigest()


def test_an_entry_is_found_under_its_own_key_only(tmp_path):
    folder = _write(KEY, tmp_path)
    assert cache.find_entry(KEY, tmp_path) == folder
    assert (folder / "weights.bin").read_bytes() == b"\x01" * 1000
    newer = cache.EntryKey(KEY.model, "1.0.1", KEY.digest)
    changed = cache.EntryKey(KEY.model, KEY.version, "cd" * 32)
    other = cache.EntryKey("other-model", KEY.version, KEY.digest)
    assert len({key.folder(tmp_path) for key in (KEY, newer, changed, other)}) == 4
    for key in (newer, changed, other):
        assert cache.find_entry(key, tmp_path) is None
    # the manifest, not the folder's name, says what an entry is: a folder moved under another key fails
    os.rename(folder, newer.folder(tmp_path))
    assert cache.find_entry(newer, tmp_path) is None
    manifest = json.loads((newer.folder(tmp_path) / cache.MANIFEST).read_text())
    assert manifest | {"files": None} == KEY.fields() | {"files": None}
    assert manifest["files"]["weights.bin"] == {
        "size": 1000,
        "sha256": hashlib.sha256(b"\x01" * 1000).hexdigest(),
    }


def test_a_failure_while_writing_leaves_no_entry_and_no_temporary_folder(tmp_path):
    staging = cache.stage(KEY, tmp_path)
    (staging / "weights.bin").write_bytes(b"half")
    assert cache.find_entry(KEY, tmp_path) is None  # unfinished: not there yet
    cache.abandon(staging)  # what a writer does when its conversion fails
    assert cache.find_entry(KEY, tmp_path) is None and not KEY.folder(tmp_path).exists()
    assert _leftovers(tmp_path) == []


def test_a_failed_rename_publishes_nothing(tmp_path, monkeypatch):
    staging = cache.stage(KEY, tmp_path)
    (staging / "weights.bin").write_bytes(b"whole")

    def refuse(*args):
        raise OSError("no rename today")

    monkeypatch.setattr(cache.os, "rename", refuse)
    with pytest.raises(OSError, match="no rename today"):
        cache.commit(staging, KEY, tmp_path)
    cache.abandon(staging)
    assert not KEY.folder(tmp_path).exists() and _leftovers(tmp_path) == []


def _flip_a_byte(folder):
    path = folder / "weights.bin"
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(folder):
    with open(folder / "weights.bin", "r+b") as handle:
        handle.truncate(10)


DAMAGE = {
    "a flipped byte": _flip_a_byte,
    "a truncated file": _truncate,
    "a missing file": lambda folder: (folder / "config.json").unlink(),
    "an extra file": lambda folder: (folder / "stray.txt").write_text("?"),
    "no manifest": lambda folder: (folder / cache.MANIFEST).unlink(),
    "a half-written manifest": lambda folder: (folder / cache.MANIFEST).write_text('{"layout": 1, "fi'),
    "a manifest of something else": lambda folder: (folder / cache.MANIFEST).write_text("[]"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_entry_is_never_read_and_a_new_write_replaces_it(damage, tmp_path, caplog):
    folder = _write(KEY, tmp_path)
    assert cache.find_entry(KEY, tmp_path) == folder  # verified, and remembered as verified
    DAMAGE[damage](folder)
    with caplog.at_level(logging.WARNING, logger="core.lm.cache"):
        assert cache.find_entry(KEY, tmp_path) is None
    assert "It will be converted again" in caplog.text
    rebuilt = _write(KEY, tmp_path, {"weights.bin": b"\x02" * 1000, "config.json": b"{}"})
    assert cache.find_entry(KEY, tmp_path) == rebuilt == folder
    assert (rebuilt / "weights.bin").read_bytes() == b"\x02" * 1000 and _leftovers(tmp_path) == []


def test_a_whole_entry_written_first_by_another_process_is_kept(tmp_path):
    staging = cache.stage(KEY, tmp_path)  # this process starts converting...
    (staging / "weights.bin").write_bytes(b"mine")
    theirs = _write(KEY, tmp_path, {"weights.bin": b"theirs"})  # ...another one finishes first
    assert cache.commit(staging, KEY, tmp_path) == theirs
    assert (theirs / "weights.bin").read_bytes() == b"theirs" and _leftovers(tmp_path) == []


def test_temporary_folders_left_by_a_dead_process_are_swept(tmp_path):
    dead = cache.stage(KEY, tmp_path)
    os.utime(dead, (0, 0))  # untouched for decades
    alive = cache.stage(KEY, tmp_path)  # a writer now: the dead one goes, not a live one
    assert not dead.exists() and alive.exists()
    assert cache.stage(KEY, tmp_path).exists() and alive.exists()


# ------------------------------------------------------------- the loader with a small stand-in


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """SmolLM2's reader wired to a small random Llama and MiniLM's tokenizer instead of the GGUF file
    (so that no test here waits for a conversion), with the cache in this test's own folder; the
    shared tokenizer is forgotten before and after, so no other test meets the stand-in."""
    from transformers import AutoConfig, AutoModelForCausalLM

    reads = []

    def gguf_model(dtype):
        reads.append(dtype)
        config = AutoConfig.for_model(
            "llama",
            vocab_size=64,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            tie_word_embeddings=True,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
        return model.to(dtype)

    monkeypatch.setattr(lm_load, "_gguf_model", gguf_model)
    monkeypatch.setattr(lm_load, "_gguf_tokenizer", lm_load.minilm_tokenizer.__wrapped__)
    monkeypatch.setattr(lm_load, "_smollm2_key", lambda: KEY)
    monkeypatch.setattr(lm_load, "_said_without_cache", False)
    monkeypatch.setenv(cache.ENVIRONMENT, str(tmp_path / "cache"))
    lm_load.smollm2_tokenizer.cache_clear()
    yield reads
    lm_load.smollm2_tokenizer.cache_clear()


def _weights(model):
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


def _same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)


def test_the_first_read_converts_and_later_reads_come_from_the_cache(stand_in, tmp_path):
    first = lm_load._read_smollm2(torch.float32)
    entry = KEY.folder(tmp_path / "cache")
    assert stand_in == [torch.float32] and cache.find_entry(KEY, tmp_path / "cache") == entry
    assert {"model.safetensors", "config.json", "tokenizer.json", cache.MANIFEST} <= set(os.listdir(entry))
    lm_load.smollm2_tokenizer.cache_clear()  # as in a new process
    later = lm_load._read_smollm2(torch.float32)
    assert stand_in == [torch.float32]  # not converted again
    assert _same_weights(_weights(first.model), _weights(later.model))
    assert later.model.lm_head.weight is later.model.model.embed_tokens.weight  # still tied
    assert later.tokenizer("a b")["input_ids"] == first.tokenizer("a b")["input_ids"]


def test_a_first_read_in_half_precision_keeps_fp32_in_the_cache(stand_in, tmp_path):
    from safetensors import safe_open

    half = lm_load._read_smollm2(torch.bfloat16)
    assert stand_in == [torch.float32]  # converted in fp32, the file's own precision
    assert {parameter.dtype for parameter in half.model.parameters()} == {torch.bfloat16}
    with safe_open(KEY.folder(tmp_path / "cache") / "model.safetensors", "pt") as stored:
        assert {stored.get_tensor(name).dtype for name in stored.keys()} == {torch.float32}
    later = lm_load._read_smollm2(torch.bfloat16)
    assert stand_in == [torch.float32] and _same_weights(_weights(half.model), _weights(later.model))


def test_a_failure_while_saving_leaves_no_entry_and_still_loads(stand_in, tmp_path, monkeypatch, caplog):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache, "commit", full_disk)
    with caplog.at_level(logging.WARNING, logger="core.lm.load"):
        read = lm_load._read_smollm2(torch.float32)
    assert read.has_head and stand_in == [torch.float32]
    assert "No space left on device" in caplog.text
    root = tmp_path / "cache"
    assert not KEY.folder(root).exists() and _leftovers(root) == []


def test_a_damaged_entry_is_converted_again(stand_in, tmp_path, caplog):
    lm_load._read_smollm2(torch.float32)
    weights = KEY.folder(tmp_path / "cache") / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-8] ^= 0xFF  # one weight changed, the size kept
    weights.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        again = lm_load._read_smollm2(torch.float32)
    assert stand_in == [torch.float32, torch.float32]  # not read: converted again
    assert "does not match its manifest's SHA-256" in caplog.text
    assert cache.find_entry(KEY, tmp_path / "cache") is not None
    assert _same_weights(_weights(again.model), _weights(lm_load._read_smollm2(torch.float32).model))
    assert stand_in == [torch.float32, torch.float32]


def test_an_entry_that_verifies_but_cannot_be_loaded_is_converted_again(stand_in, tmp_path, caplog):
    lm_load._read_smollm2(torch.float32)
    root = tmp_path / "cache"
    entry = KEY.folder(root)
    (entry / "config.json").write_text("not json")
    manifest = json.loads((entry / cache.MANIFEST).read_text())  # made to agree with the bad file
    manifest["files"]["config.json"] = {"size": 8, "sha256": hashlib.sha256(b"not json").hexdigest()}
    (entry / cache.MANIFEST).write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING, logger="core.lm.load"):
        lm_load._read_smollm2(torch.float32)
    assert "cannot be read" in caplog.text and stand_in == [torch.float32, torch.float32]
    assert json.loads((entry / "config.json").read_text())["model_type"] == "llama"


def test_an_unwritable_cache_falls_back_to_the_file_and_says_why_once(
    stand_in, tmp_path, monkeypatch, caplog
):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv(cache.ENVIRONMENT, str(tmp_path / "a-file" / "models"))  # cannot be a folder
    with caplog.at_level(logging.WARNING, logger="core.lm.load"):
        for dtype in (torch.float32, torch.bfloat16):
            read = lm_load._read_smollm2(dtype)
            assert next(read.model.parameters()).dtype == dtype
    assert stand_in == [torch.float32, torch.bfloat16]  # read from the file in the dtype asked
    warnings = [record for record in caplog.records if record.name == "core.lm.load"]
    assert len(warnings) == 1
    assert "cannot be written" in warnings[0].getMessage()
    assert cache.ENVIRONMENT in warnings[0].getMessage()


# ---------------------------------------------------------------------- the bundled SmolLM2 itself


@pytest.fixture(scope="module")
def smollm2_both_ways(tmp_path_factory):
    """SmolLM2 read from its GGUF file (the first read, which fills an empty cache) and then from the
    cache, with the tokenizer each way: one conversion for every test below."""
    folder = tmp_path_factory.mktemp("smollm2-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv(cache.ENVIRONMENT, str(folder))
    try:
        gguf_tokenizer = lm_load._gguf_tokenizer()  # read once (seconds), for saving and comparing
        patch.setattr(lm_load, "_gguf_tokenizer", lambda: gguf_tokenizer)
        assert lm_load._smollm2_entry() is None
        first = lm_load._read_smollm2(torch.float32)  # the GGUF read, saved on the way
        entry = lm_load._smollm2_entry()
        assert entry is not None
        later = lm_load._cached_model(entry, torch.float32)
        tokenizers = gguf_tokenizer, lm_load.smollm2_tokenizer.__wrapped__()
        yield first.model, later, tokenizers, entry
    finally:
        patch.undo()
        shutil.rmtree(folder, ignore_errors=True)  # half a gigabyte


def test_smollm2_from_the_cache_has_the_gguf_files_weights_bit_for_bit(smollm2_both_ways):
    gguf, cached, _, entry = smollm2_both_ways
    assert cached.config._name_or_path == str(entry)  # really read from the cache
    assert _same_weights(gguf.state_dict(), cached.state_dict())
    buffers = dict(gguf.named_buffers()), dict(cached.named_buffers())  # the rotary frequencies
    assert _same_weights(*buffers)
    for model in (gguf, cached):  # the head and the input embeddings are one matrix
        assert model.config.tie_word_embeddings
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    ignored = {"_name_or_path", "architectures"}
    assert {k: v for k, v in gguf.config.to_dict().items() if k not in ignored} == {
        k: v for k, v in cached.config.to_dict().items() if k not in ignored
    }
    assert gguf.generation_config.to_dict() == cached.generation_config.to_dict()


def test_smollm2_from_the_cache_tokenises_like_the_gguf_file(smollm2_both_ways):
    _, _, (gguf, cached), _ = smollm2_both_ways
    assert type(cached) is type(gguf)
    texts = [
        "The capital of France is",
        "0.123,-4.56,789,10,",
        " 12 34 5.6e-3 1e+05 ",
        prompt_text(np.sin(np.arange(48.0)) * 100, "Hourly electricity load", 48, 8),
        "<|im_start|>user\nForecast 3, 4, 5<|im_end|>",
        "héllo wörld ✓\n\n\t",
    ]
    for text in texts:
        assert cached(text)["input_ids"] == gguf(text)["input_ids"], text
    assert cached(texts, padding=True)["input_ids"] == gguf(texts, padding=True)["input_ids"]
    for attribute in ("pad_token", "eos_token", "bos_token", "unk_token", "padding_side", "chat_template"):
        assert getattr(cached, attribute) == getattr(gguf, attribute), attribute
    assert (cached.pad_token_id, cached.eos_token_id, cached.bos_token_id) == (2, 2, 1)
    assert (gguf.pad_token_id, gguf.eos_token_id, gguf.bos_token_id) == (2, 2, 1)
    assert cached.get_vocab() == gguf.get_vocab() and cached.added_tokens_decoder == gguf.added_tokens_decoder
