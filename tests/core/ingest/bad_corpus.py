"""The corpus of bad files and the message each must produce (shared by unit and page tests)."""

from tests.conftest import TEST_DATA

BAD = TEST_DATA / "bad"

# file name -> a fragment of the plain-language message the user must see: why it is refused, or
# the note or warning on what was left out, read as missing or worth a look
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
    "bad_timestamp.csv": "not a date, on line 35 ('not a date')",
    "repeated_column_names.csv": "Column names repeat: value",
    "ragged_rows.csv": "Line 102 has 5 fields but the header names 2 columns",
    # a downloaded export.zip saved or renamed as .csv without unpacking it
    "zip_archive.csv": "ZIP archive holding 'meter_readings.csv'",
    # a failed download: the server's 404 page saved under the data's file name
    "html_error_page.csv": "HTML page ('404 Not Found')",
    # an API response (a JSON list of records) saved with a .csv name
    "json_renamed.csv": "This is JSON, not a CSV file",
    # a logger's file cut short by a power loss, its end padded with zero bytes
    "nul_padding.csv": "512 NUL bytes (zero bytes), the first on line 242",
    # a spreadsheet row of daily values exported as is: dates across the top, values below
    "transposed.csv": "The dates run across the header (240 columns",
    # a list of numbers pasted into one line, separated by commas
    "single_line.csv": "a single line of 240 values separated by commas",
    # only the date column was copied out of the spreadsheet, not the values beside it
    "dates_only.csv": "The file holds only dates (column 'date')",
    # a printed report with columns aligned by spaces, saved as .csv
    "space_separated.csv": "the columns are separated by spaces",
    # a semicolon file whose header line was retyped by hand with commas
    "header_other_delimiter.csv": "header line is separated by commas but the data rows by semicolons",
    # the report's export date on every row in place of the measurement time
    "same_timestamp.csv": "Every row has the same timestamp (2023-06-01 00:00:00)",
    # an export sorted newest first, as web portals often list readings
    "newest_first.csv": "The rows run newest first",
    # a target column filled in only once every ten rows (a sparse manual log)
    "mostly_missing_target.csv": "has values in only 24 of 240 rows",
    # a long file (unique_id, ds, y) of four stores, none with enough history
    "long_all_short.csv": "Every series in this file is shorter than the look-back plus horizon (192)",
    # a database's 9999-12-31 'no end date' placeholder left in the timestamp column
    "placeholder_date.csv": "Line 79 has the timestamp 9999-12-31 00:00:00, far from all the others",
    # a logger reconfigured mid-file: times with a +02:00 offset, then without one
    "mixed_offsets.csv": "carry a UTC offset and others do not: line 2 has one",
    # the same retyped header over semicolon rows that write numbers with decimal commas
    "header_comma_decimal_comma.csv": "data rows by semicolons, with decimal commas (as in '20,0')",
    # a manual log whose date cells Excel saved as day numbers (45293.003004), at irregular times
    "excel_serial_irregular.csv": "Column 'date' holds numbers such as 45293.003004, not dates",
    # an export continued by hand in another locale: ISO dates, then day/month/year
    "mixed_date_formats.csv": (
        "The 'date' column mixes two date formats: lines 2–121 look like 2021-01-01 (year-month-day) "
        "and lines 122–241 like 01/05/2021 (day/month or month/day). Save the column in one format"
    ),
    # two shops' exports pasted together, one writing day/month/year, the other month/day/year
    "mixed_day_month_order.csv": "mixes day-first and month-first dates: lines 14–32, 45–60",
    # twelve days of hourly readings: no day number is over 12, so 03/01/2021 reads both ways
    "ambiguous_day_month.csv": "The dates in column 'time' can be read day first or month first",
    # a spreadsheet's sum and mean under the data; once refused with advice that loaded them as data
    "summary_rows_end.csv": "Dropped 2 summary rows at the end: line 242 'Total', line 243 'Average'.",
    # a report with its grand total and mean over the data
    "summary_rows_start.csv": "Dropped 2 summary rows at the start: line 2 'Grand total:', line 3 'MEAN:'.",
    # two exports joined: the second one's header row in the middle
    "repeated_header.csv": "The header row repeats on line 122: the file looks like 2 files joined.",
    # a units row under the header, as meter portals export
    "units_row.csv": "Line 2 under the header holds units, not data (',£,°C')",
    # the same with the units in brackets, a date format among them
    "units_row_bracketed.csv": "holds units, not data ('(yyyy-mm-dd hh:mm),(kWh),(°C)')",
    # formulas that failed in the spreadsheet, saved as their error values
    "excel_errors.csv": (
        "Read 4 Excel error cells (#DIV/0! ×2, #N/A, #VALUE!) as missing values: lines 14, 42–43 and 102."
    ),
    # a meter reading typed with five extra digits
    "outlier.csv": "probably an outlier: 99999 on line 53. Check it before training; it was kept.",
    # a sensor array's export: 1,200 channels, all but two stuck at zero
    "wide_constant_columns.csv": "1,198 of 1,200 columns never change: 'c3', 'c4',",
}

# the files above that load, once what is not data is left out: file -> (rows, target, units)
LOADED = {
    "summary_rows_end.csv": (240, "sales", {}),
    "summary_rows_start.csv": (240, "sales", {}),
    "repeated_header.csv": (240, "sales", {}),
    "units_row.csv": (288, "sales", {"sales": "£", "temp": "°C"}),
    "units_row_bracketed.csv": (288, "temp", {"load": "kWh", "temp": "°C"}),
    "excel_errors.csv": (288, "temp", {}),
    "outlier.csv": (288, "load", {}),
    "wide_constant_columns.csv": (200, "c2", {}),
}
