"""Bytes -> `Table`: decode, refuse what is not a CSV text file, sniff, parse, find the columns.

Decoding tries UTF-8 (with or without BOM), UTF-16 as Excel's "Unicode text" writes it, else
Latin-1. Binary files, archives, workbooks, web pages, JSON and a series written across one line or
sideways are refused with what to do instead. The delimiter, decimal mark and thousands separator are
sniffed; lines that are no data are set aside (`core.ingest.rows`); unnamed columns are named or left
out, and Excel serial day numbers become dates again.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter

import numpy as np
import pandas as pd

from core.dataset import DataError, Table
from core.ingest.columns import (
    ID_NAMES,
    TIMESTAMP_NAMES,
    VALUE_NAMES,
    _combine_date_and_time,
    _id_candidates,
    _is_number_dtype,
    _mostly_numeric,
    _parse_dates,
    _regularity,
    _timestamp_candidates,
    infer_frequency,
)
from core.ingest.rows import EXCEL_ERRORS, NA_MARKERS, set_aside, unit_from_name
from core.ingest.words import _clip, _plural

DEFAULT_MAX_UPLOAD_MB = 200  # the same limit as server.maxUploadSize in .streamlit/config.toml
DELIMITERS = [",", ";", "\t", "|"]

_EXPORT = "Export or save it as CSV and upload that."
_UNPACK = "Unpack it (double-click it, or use 7-Zip or gunzip) and upload the CSV file inside."
_MAGIC = {  # the first bytes of a file -> what it is, and what to do instead
    b"PK\x03\x04": ("a ZIP archive or an Excel workbook (.xlsx)", _EXPORT),
    b"\xd0\xcf\x11\xe0": ("an old Excel workbook (.xls)", _EXPORT),
    b"%PDF": ("a PDF document", _EXPORT),
    b"\x89PNG": ("a PNG image", _EXPORT),
    b"\xff\xd8\xff": ("a JPEG image", _EXPORT),
    b"\x1f\x8b": ("a gzip-compressed file", _UNPACK),
    b"PAR1": ("a Parquet file", _EXPORT),
}

_FIELD_CHECK_LINES = 2000  # surplus fields are looked for here; pandas itself refuses them later on


def read_table(data: bytes, max_bytes: int | None = DEFAULT_MAX_UPLOAD_MB * 1024 * 1024) -> Table:
    """Decode and parse CSV/TSV bytes, and find which columns could be timestamps and values."""
    if max_bytes is not None and len(data) > max_bytes:
        raise DataError(
            f"The file is {_size(len(data))}, over the upload limit of {_size(max_bytes)}. "
            "Upload a shorter extract (for example fewer rows or columns), or raise "
            "server.maxUploadSize in .streamlit/config.toml."
        )
    if not data.strip():
        raise DataError("The file is empty. Choose a CSV file with a header row and data rows.")
    utf16 = _decode_utf16(data)
    if utf16 is None:
        _refuse_binary(data)
    text, encoding = utf16 or _decode(data)
    _refuse_markup(text)
    text, declared, skipped = _strip_separator_line(text)
    lines = text.splitlines()
    nonblank = [line for line in lines if line.strip()]
    if len(nonblank) < 2:
        _refuse_single_line(nonblank)
        raise DataError(
            "The file has a header row but no data rows. Add at least one row of values under the header."
        )
    delimiter = declared or _sniff_delimiter(nonblank[:50])
    _refuse_mismatched_separators(nonblank[:50], delimiter)
    decimal = _sniff_decimal(nonblank[1:200], delimiter)
    thousands = _sniff_thousands(nonblank[1:200], delimiter, decimal)
    header = next(csv.reader([nonblank[0]], delimiter=delimiter))
    has_header = not all(_is_number(cell, decimal) for cell in header if cell.strip())
    names = [cell.strip() for cell in header if cell.strip()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if has_header and repeated:
        raise DataError(f"Column names repeat: {', '.join(repeated)}. Give every column a distinct name.")
    header_line = skipped + next(i for i, line in enumerate(lines) if line.strip()) + 1  # 1-based
    first_data_line = header_line + 1 if has_header else header_line
    _check_field_counts(lines, delimiter, len(header), header_line - skipped, skipped)
    header_index = header_line - skipped - 1
    lines, changes, row_units = set_aside(lines, header_index, delimiter, has_header, skipped)
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines[header_index:])),
            sep=delimiter,
            decimal=decimal,
            thousands=thousands,
            header=0 if has_header else None,
            index_col=False,
            skipinitialspace=True,
            skip_blank_lines=False,  # keeps row labels equal to file lines for messages
            na_values=NA_MARKERS + list(EXCEL_ERRORS),
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise DataError(
            f"The file could not be read as a table: {_first_line(error)}. Check that every row "
            "has the same number of fields as the header."
        ) from None
    notes = [
        f"Read as {encoding} text, fields separated by {_name_delimiter(delimiter)}, "
        f"decimal mark '{decimal}'" + (f", thousands separator '{thousands}'." if thousands else ".")
    ]
    if not has_header:
        frame.columns = [f"column_{i + 1}" for i in range(frame.shape[1])]
        notes.append("The first row holds numbers, so it was read as data and columns were named.")
    if has_header:
        frame, unnamed_notes = _name_unnamed_columns(frame, header)
        notes.extend(unnamed_notes)
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.dropna(axis=0, how="all").copy()  # blank lines, lines set aside; one block a dtype
    if frame.empty:
        raise DataError("The file has a header row but no data rows. Add rows of values.")
    prefer_dayfirst = delimiter == ";" or decimal == ","
    _refuse_transposed(frame, prefer_dayfirst)

    frame, combined = _combine_date_and_time(frame, prefer_dayfirst)
    if combined:
        notes.append(combined)
    timestamps = _timestamp_candidates(frame, prefer_dayfirst)
    frame, serial_notes = _read_excel_serials(frame, timestamps)
    if serial_notes:
        notes.extend(serial_notes)
        timestamps = _timestamp_candidates(frame, prefer_dayfirst)
    numeric = [
        c
        for c, dtype in frame.dtypes.items()
        if c not in timestamps and (_is_number_dtype(dtype) or _mostly_numeric(frame[c]))
    ]
    ids = _id_candidates(frame, timestamps, numeric)
    numeric = [c for c in numeric if c not in ids]
    if not numeric and timestamps and set(frame.columns) <= set(timestamps):
        raise DataError(
            f"The file holds only dates (column {', '.join(repr(c) for c in timestamps)}) and no "
            "values, so there is nothing to forecast. Add a column of numbers beside the dates "
            "(for example 'date,value')."
        )
    if not numeric:
        raise DataError(
            "No column holds numbers, so there is nothing to forecast. The file needs at least one "
            "column of numeric values (for example 'date,value')."
        )
    units = {c: row_units.get(c) or unit_from_name(c) for c in numeric}
    units = {c: unit for c, unit in units.items() if unit}
    return Table(
        frame, delimiter, decimal, encoding, timestamps, numeric, ids, notes, first_data_line, changes, units
    )


def _refuse_binary(data: bytes) -> None:
    if data.startswith(b"PK\x03\x04"):
        _refuse_zip(data)
    for magic, (what, fix) in _MAGIC.items():
        if data.startswith(magic):
            raise DataError(f"This is {what}, not a CSV text file. {fix}")
    head = data[:8192]
    control = sum(1 for b in head if b < 32 and b not in (0, 9, 10, 13))
    if control <= len(head) * 0.01 and b"\x00" in data:  # text with NUL bytes in it
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DataError(
            f"The file holds {data.count(0)} NUL bytes (zero bytes), the first on line {line}, as "
            "an interrupted save or a disk error leaves behind. Delete them in a text editor (or "
            "cut the file before that line) and upload the file again."
        )
    if b"\x00" in head or control > len(head) * 0.05:
        raise DataError(
            "This file is binary, not text. Upload a CSV or TSV text file (comma, semicolon or "
            "tab separated)."
        )


def _refuse_zip(data: bytes) -> None:
    """Name an Excel workbook as one, and the files inside any other ZIP archive."""
    try:
        names = [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # a damaged archive: the general message for ZIP files follows
    if any(n.startswith("xl/") for n in names):
        raise DataError(f"This is an Excel workbook (.xlsx), not a CSV text file. {_EXPORT}")
    tables = [n for n in names if n.lower().endswith((".csv", ".tsv", ".txt"))]
    inside = ", ".join(f"'{_clip(n)}'" for n in (tables or names)[:3]) + (" …" if len(names) > 3 else "")
    fix = f"upload {inside}" if len(tables) == 1 else "upload the CSV file inside"
    raise DataError(
        f"This is a ZIP archive holding {inside or 'no files'}, not a CSV text file. Unpack it "
        f"(double-click it, or use 7-Zip) and {fix}."
    )


def _refuse_markup(text: str) -> None:
    start = text.lstrip()[:1]
    if start == "<":
        title = re.search(r"<title[^>]*>(.*?)</title>", text[:20000], re.IGNORECASE | re.DOTALL)
        if title and title.group(1).strip():
            page = f"an HTML page ('{_clip(' '.join(title.group(1).split()))}')"
            raise DataError(
                f"This is {page}, not a CSV file: a web page, often an error page, was saved in "
                "place of the data. Open the link in a browser, download the data itself as CSV, "
                "and upload that."
            )
        raise DataError("This is an HTML or XML page, not a CSV file. Download the data itself as CSV.")
    if start in ("{", "["):
        raise DataError("This is JSON, not a CSV file. Convert it to a table with one row per time step.")


def _decode_utf16(data: bytes) -> tuple[str, str] | None:
    """Excel's "Unicode text" is UTF-16 with a byte-order mark; without one, ASCII text in UTF-16
    shows as every other byte zero."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        codec = "utf-16"
    else:
        head = data[:4096]
        even, odd = head[0::2], head[1::2]
        if len(head) < 4 or len(data) % 2:
            return None
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            codec = "utf-16-le"
        elif even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            codec = "utf-16-be"
        else:
            return None
    try:
        return data.decode(codec), "UTF-16"
    except UnicodeDecodeError:
        return None


def _decode(data: bytes) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _strip_separator_line(text: str) -> tuple[str, str | None, int]:
    """Excel's `sep=;` first line names the delimiter; drop it and use it."""
    first, _, rest = text.partition("\n")
    match = re.fullmatch(r"\s*sep=(.)\s*", first)
    if match is None:
        return text, None, 0
    return rest, match.group(1), 1


def _refuse_single_line(nonblank: list[str]) -> None:
    """One line of many numbers is a series written across instead of down."""
    if len(nonblank) != 1:
        return
    line = nonblank[0]
    delimiter = max(DELIMITERS, key=line.count)
    cells = [c for c in next(csv.reader([line], delimiter=delimiter)) if c.strip()]
    numbers = sum(_is_number(c, ".") or _is_number(c, ",") for c in cells)
    if len(cells) >= 10 and numbers >= 0.9 * len(cells):
        raise DataError(
            f"The file is a single line of {len(cells)} values separated by "
            f"{_name_delimiter(delimiter)}. Put one time step per line: the values in a column "
            "under a header such as 'value' (in Excel: Paste Special, Transpose)."
        )


def _refuse_mismatched_separators(lines: list[str], delimiter: str) -> None:
    """Columns split by spaces, or a header split by another separator than the data rows."""
    rows = list(csv.reader(lines, delimiter=delimiter))
    header, data = rows[0], rows[1:]
    if delimiter == "," and len(header) >= 2 and ";" not in lines[0]:
        # Semicolon rows with decimal commas split into as many comma fields as the header has.
        split = [len(row) for row in csv.reader(lines[1:], delimiter=";")]
        if sum(n == len(header) for n in split) >= 0.9 * len(split) and _sniff_decimal(lines[1:], ";") == ",":
            example = next(c for c in _cells(lines[1:], ";") if re.fullmatch(r"[-+]?[\d.]*\d,\d+", c))
            raise DataError(
                "The header line is separated by commas but the data rows by semicolons, with "
                f"decimal commas (as in '{_clip(example, 20)}'). Use one separator in the whole file: "
                f"write the header as '{_clip(lines[0].replace(',', ';'), 60)}'."
            )
    if len(header) != 1:
        return
    fields = Counter(len(row) for row in data).most_common(1)[0][0]
    if fields == 1:
        spaced = [
            any(_is_number(t, ".") or _is_number(t, ",") for t in line.split())
            for line in lines[1:]
            if len(line.split()) >= 2 and not re.fullmatch(r"\s*[-+]?\d{1,3}( \d{3})+([.,]\d+)?\s*", line)
        ]  # lines of several words, one of them a number ('1 234,5' is one number)
        if len(lines[0].split()) >= 2 and sum(spaced) >= 0.9 * (len(lines) - 1):
            raise DataError(
                "Every line is a single field: the columns are separated by spaces, which cannot be "
                "told apart from spaces inside a value (such as '2024-01-01 00:00'). Save the file "
                "with commas, semicolons or tabs between the columns and upload it again."
            )
        return
    for other in DELIMITERS:
        if other != delimiter and len(next(csv.reader([lines[0]], delimiter=other))) == fields:
            raise DataError(
                f"The header line is separated by {_name_delimiter(other)} but the data rows by "
                f"{_name_delimiter(delimiter)}. Use one separator in the whole file: write the header "
                f"as '{_clip(lines[0].replace(other, delimiter), 60)}'."
            )


def _name_unnamed_columns(frame: pd.DataFrame, header: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Columns with an empty header cell: dropped when they hold nothing (a trailing separator) or
    only row numbers (the index pandas writes by default), else named after their position.

    A name and a note surprise the user less than a refusal: the column stays in the file as it
    was, can be left out under the extra channels, and a date column without a name (a pandas
    time index) is still found as the timestamp.
    """
    positions = [i for i, cell in enumerate(header) if not cell.strip() and i < frame.shape[1]]
    if not positions:
        return frame, []
    empty, row_numbers, renamed = [], [], {}
    taken = {str(c).strip() for i, c in enumerate(frame.columns) if i not in positions}
    for i in positions:
        column = frame.iloc[:, i]
        if column.isna().all():
            empty.append(i)
        elif i == 0 and _is_row_number(column):
            row_numbers.append(i)
        else:
            name = f"column {i + 1}"
            while name in taken:
                name = f"unnamed {name}"
            taken.add(name)
            renamed[i] = name
    notes = []
    if empty:
        trailing = empty == list(range(frame.shape[1] - len(empty), frame.shape[1]))
        notes.append(
            f"{_name_positions(empty)} no name in the header and no values"
            + (" (the header line ends with a separator)" if trailing else "")
            + f"; {'it was' if len(empty) == 1 else 'they were'} left out."
        )
    if row_numbers:
        values = frame.iloc[:, 0].dropna().astype(int).head(3).tolist()
        notes.append(
            f"Column 1 has no name and holds row numbers ({', '.join(map(str, values))}, …), as pandas "
            "writes its index; it was left out."
        )
    for i, name in renamed.items():
        notes.append(
            f"Column {i + 1} has no name in the header but holds values; it was called '{name}'. "
            "Give it a name in the file, or leave it out under the extra channels if it is not needed."
        )
    columns = [renamed.get(i, c) for i, c in enumerate(frame.columns)]
    frame = frame.set_axis(columns, axis=1)
    keep = [i for i in range(frame.shape[1]) if i not in empty and i not in row_numbers]
    return frame.iloc[:, keep], notes


def _is_row_number(column: pd.Series) -> bool:
    """Whole numbers counting up by one, as a saved pandas index is (0, 1, 2, …)."""
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return False
    values = column.dropna().to_numpy(dtype=float)
    return len(values) >= 2 and bool(np.all(np.diff(values) == 1) and values[0] == round(values[0]))


def _name_positions(positions: list[int]) -> str:
    if len(positions) == 1:
        return f"Column {positions[0] + 1} has"
    numbers = [str(i + 1) for i in positions]
    return f"Columns {', '.join(numbers[:-1])} and {numbers[-1]} have"


_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (day 1 is 1 January 1900)
_EXCEL_SERIALS = (20000, 80000)  # plausible day numbers: 3 October 1954 to 11 January 2119
_DATE_NAMES = ("date", "ds", "timestamp", "datetime")  # names that can only mean a date
_DATE_WORD = re.compile(r"(^|[^a-z])(date|timestamp)")  # 'order_date', 'Date/Time', not 'update'


def _read_excel_serials(frame: pd.DataFrame, timestamps: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Dates saved from Excel as numbers (45000.5 is 15 March 2023 12:00) become dates again.

    A numeric column is read so when all its values are Excel day numbers on a regular time grid
    (a whole number of steps to the day, or a week, month, quarter or year), and either its name
    says it is a time column, or it is the first column, counts strictly up by one step (gaps
    aside) and the file has no other date column. A column named like a date whose day numbers fall on
    no regular grid is refused: they cannot be told apart from other numbers.
    """
    notes = []
    numbers = frame.select_dtypes("number")
    plausible = (numbers.min() >= _EXCEL_SERIALS[0]) & (numbers.max() <= _EXCEL_SERIALS[1])  # at once
    for position, name in enumerate(frame.columns):
        if not plausible.get(name, False):
            continue
        column = frame[name]
        values = column.dropna().to_numpy(dtype=float)
        if len(values) < 3 or values.min() < _EXCEL_SERIALS[0] or values.max() > _EXCEL_SERIALS[1]:
            continue
        lower = name.lower()
        dated = lower in _DATE_NAMES or _DATE_WORD.search(lower) is not None
        named = dated or lower in TIMESTAMP_NAMES
        first = (
            position == 0
            and not timestamps
            and frame.shape[1] > 1
            and lower not in ID_NAMES + VALUE_NAMES
            and not lower.endswith("_id")
            and bool(np.all(np.diff(values) > 0))
        )
        if not (named or first):
            continue
        seconds = np.round(column.to_numpy(dtype=float) * 86400)
        dates = pd.Series(_EXCEL_EPOCH + pd.to_timedelta(seconds, unit="s"), index=column.index)
        freq = infer_frequency(pd.DatetimeIndex(dates.dropna()))
        tick = freq is not None and isinstance(pd.tseries.frequencies.to_offset(freq), pd.offsets.Tick)
        if not _calendar_step(freq) or (not named and tick and _regularity(dates) < 0.9):
            if dated:
                raise DataError(
                    f"Column '{name}' holds numbers such as {_clip(column.dropna().iloc[0])}, not "
                    "dates: Excel writes a date cell formatted as a number this way (days since "
                    "1899-12-30), but these are not on a regular time grid, so they cannot be read "
                    "as dates safely. In Excel, format the column as dates (Format Cells, Date) "
                    "before saving it as CSV, and upload it again."
                )
            continue
        frame = frame.assign(**{name: dates})
        example = column.dropna().iloc[0]
        time = "" if np.all(values == np.round(values)) else " %H:%M"
        notes.append(
            f"Column '{name}' held Excel serial day numbers; they were read as dates counted from "
            f"1899-12-30 ({example:g} is {dates[column.first_valid_index()]:%d %B %Y{time}})."
        )
    return frame, notes


def _calendar_step(freq: str | None) -> bool:
    """A time step that dates are kept at: under a day, a day, a week, a month, a quarter, a year."""
    if freq is None:
        return False
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):  # a whole number of steps to the day
        step = pd.Timedelta(offset)
        return step <= pd.Timedelta(days=1) and pd.Timedelta(days=1) % step == pd.Timedelta(0)
    return offset.n == 1


def _refuse_transposed(frame: pd.DataFrame, prefer_dayfirst: bool) -> None:
    """Dates as column names over a row or two of values: the series runs sideways."""
    if len(frame) > 3 or frame.shape[1] < 10:
        return
    parsed, _ = _parse_dates(pd.Series(frame.columns, dtype="string"), prefer_dayfirst)
    if parsed.notna().mean() >= 0.9:
        raise DataError(
            f"The dates run across the header ({frame.shape[1]} columns, from {frame.columns[0]} to "
            f"{frame.columns[-1]}) with {_plural(len(frame), 'row')} of values under them: the series "
            "is laid out sideways. Transpose it so that each time step is one row (in Excel: Paste Special, "
            "Transpose) and upload it again."
        )


def _check_field_counts(
    lines: list[str], delimiter: str, expected: int, header_index: int, skipped: int
) -> None:
    """Rows with more fields than the header would silently shift columns; say where they are."""
    body = lines[header_index : header_index + _FIELD_CHECK_LINES]
    for offset, row in enumerate(csv.reader(body, delimiter=delimiter)):
        if len(row) > expected and any(cell.strip() for cell in row[expected:]):
            line = skipped + header_index + offset + 1
            raise DataError(
                f"Line {line} has {len(row)} fields but the header names {expected} columns. Give "
                "every row as many fields as the header (quote values that contain the separator)."
            )


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most lines into the same, largest number of fields."""
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        fields, agreeing = Counter(counts).most_common(1)[0]
        if fields < 2:
            continue
        score = (agreeing, fields)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _cells(lines: list[str], delimiter: str):
    for row in csv.reader(lines, delimiter=delimiter):
        for cell in row:
            yield cell.strip()


def _sniff_decimal(lines: list[str], delimiter: str) -> str:
    """A comma is the decimal mark when the fields are not comma separated and look like 3,14."""
    if delimiter == ",":
        return "."
    comma = point = 0
    for cell in _cells(lines, delimiter):
        comma += bool(re.fullmatch(r"[-+]?\d{1,3}(\.\d{3})*,\d+|[-+]?\d+,\d+", cell))
        point += bool(re.fullmatch(r"[-+]?\d{1,3}(,\d{3})*\.\d+|[-+]?\d+\.\d+", cell))
    return "," if comma > point else "."


def _sniff_thousands(lines: list[str], delimiter: str, decimal: str) -> str | None:
    """A thousands separator ('1,234.5' or '1.234,5'), when numbers are written with one."""
    mark = "," if decimal == "." else "."  # a comma mark in a comma file only inside quotes
    grouped = rf"[-+]?\d{{1,3}}(\{mark}\d{{3}})+(\{decimal}\d+)?"
    if any(mark in cell and re.fullmatch(grouped, cell) for cell in _cells(lines, delimiter)):
        return mark
    return None


def _is_number(cell: str, decimal: str) -> bool:
    cell = cell.strip()
    if decimal == ",":
        cell = cell.replace(",", ".")
    try:
        float(cell)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------- helpers, the later steps use some too


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1024 / 1024:.1f} MB"


def _name_delimiter(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}[delimiter]


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
