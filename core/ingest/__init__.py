"""From uploaded bytes to a validated, regularly spaced series.

The steps, one module each, so that the Data page can show what happened in between:

1. `read` (`read_table`): decode the bytes, refuse what is not a CSV text file, sniff the
   delimiter and decimal mark, and parse them into a `Table`. Before parsing, `rows` sets aside
   the lines that are no data (summary rows, a repeated header, a units row) and counts Excel
   error cells, which are read as missing; units come from a units row or the column names.
2. `columns`: find which columns could be timestamps, series ids and values, and so the layout
   (wide or long); `read_table` asks it before it hands the table on.
3. `mapping` (`suggest_mapping` / `build_dataset`): apply the user's column mapping (timestamp,
   target, extra channels; a series id for long data) and reject what cannot be forecast at all.
   `dates` reads the timestamp column one way for every row: a column written in two formats or
   two day orders is refused, and a day order no date settles raises `AmbiguousDateOrder`, for
   the user to answer in `ColumnMapping.dayfirst`.
4. `repair` (`inspect` / `repair`): infer the frequency and report gaps, duplicates, unsorted rows,
   missing values, constant columns and probable outliers; then sort, drop duplicates, fill gaps
   and missing values, and say what changed.

`load` runs them end to end (`load_dataset` for the Data page and the command line alike,
`load_csv_file` for a file on disk, `read_protocol_csv` for a benchmark file). The types they pass
along live in `core.dataset`.

Every problem with the user's data raises `DataError`, whose message names the problem and the fix
in plain language; nothing here prints, logs or touches a dataset that is already loaded.
"""

from core.ingest.columns import ID_NAMES, TIMESTAMP_NAMES, VALUE_NAMES, infer_frequency
from core.ingest.load import load_csv_file, load_dataset, read_protocol_csv
from core.ingest.mapping import (
    NO_TIMESTAMP,
    build_dataset,
    mapping_for_columns,
    require_rows,
    series_ids,
    suggest_mapping,
)
from core.ingest.read import DEFAULT_MAX_UPLOAD_MB, DELIMITERS, NA_MARKERS, read_table
from core.ingest.repair import (
    FILL_METHODS,
    MAX_DROPPED_SHARE,
    MAX_INSERTED_SHARE,
    MAX_MISSING_SHARE,
    blocking,
    expected_index,
    inspect,
    needs_repair,
    repair,
)

__all__ = [
    "DEFAULT_MAX_UPLOAD_MB",
    "DELIMITERS",
    "FILL_METHODS",
    "ID_NAMES",
    "MAX_DROPPED_SHARE",
    "MAX_INSERTED_SHARE",
    "MAX_MISSING_SHARE",
    "NA_MARKERS",
    "NO_TIMESTAMP",
    "TIMESTAMP_NAMES",
    "VALUE_NAMES",
    "blocking",
    "build_dataset",
    "expected_index",
    "infer_frequency",
    "inspect",
    "load_csv_file",
    "load_dataset",
    "mapping_for_columns",
    "needs_repair",
    "read_protocol_csv",
    "read_table",
    "repair",
    "require_rows",
    "series_ids",
    "suggest_mapping",
]
