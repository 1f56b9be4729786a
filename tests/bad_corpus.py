"""The corpus of bad files and the message each must produce (shared by unit and page tests)."""

from pathlib import Path

BAD = Path(__file__).resolve().parent / "data" / "bad"

# file name -> a fragment of the plain-language message the user must see
EXPECTED_MESSAGES = {
    "empty.csv": "The file is empty",
    "header_only.csv": "header row but no data rows",
    "binary_noise.csv": "This file is binary, not text",
    "excel_renamed.csv": "Excel workbook",  # an .xlsx renamed to .csv
    "no_numeric_column.csv": "No column holds numbers",
    "text_in_target.csv": "line 59 holds 'twelve'",
    "all_missing_target.csv": "has no values",
    "duplicate_timestamps.csv": "2 rows repeat a timestamp",
    "too_short.csv": "fewer than the look-back plus horizon (192)",
    "infinities.csv": "infinite value",
    "bad_timestamp.csv": "not dates, the first on line 35 ('not a date')",
    "repeated_column_names.csv": "Column names repeat: value",
    "ragged_rows.csv": "Line 102 has 5 fields but the header names 2 columns",
}
