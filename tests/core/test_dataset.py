"""The types the ingest steps pass along."""

from tests.core.conftest import load_text


def test_content_hash_changes_with_the_values():
    first = load_text("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n")
    second = load_text("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,4\n")
    assert first.content_hash() != second.content_hash()
    assert (
        first.content_hash()
        == load_text("date,value\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n").content_hash()
    )
