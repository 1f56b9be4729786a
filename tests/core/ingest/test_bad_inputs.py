"""Each bad file gets its own message from the engine (the page tests check the page too)."""

import pytest

from core import ingest
from core.dataset import DataError
from tests.core.ingest.bad_corpus import BAD, EXPECTED_MESSAGES


def _messages(data: bytes) -> list[str]:
    """Every message a user would see: a refusal, or the problems that block loading."""
    try:
        table = ingest.read_table(data)
        dataset = ingest.build_dataset(table, ingest.suggest_mapping(table), "bad", min_rows=192)
    except DataError as error:
        return [str(error)]
    return [p.message for p in ingest.inspect(dataset) if p.needs_repair]


def test_the_corpus_is_complete():
    assert sorted(p.name for p in BAD.iterdir()) == sorted(EXPECTED_MESSAGES)


@pytest.mark.parametrize("name", sorted(EXPECTED_MESSAGES))
def test_bad_file_gets_its_message(name):
    messages = _messages((BAD / name).read_bytes())
    assert any(EXPECTED_MESSAGES[name] in m for m in messages), messages
