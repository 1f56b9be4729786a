"""From uploaded bytes to a validated, regularly spaced series.

The steps, each a function so that the Data page can show what happened in between:

1. `read_table`: decode (UTF-8 with or without BOM, UTF-16 as Excel's "Unicode text" writes it,
   else Latin-1), refuse binary files, sniff the delimiter and decimal mark, parse, and detect the
   timestamp column and layout (wide or long).
2. `suggest_mapping` / `build_dataset`: apply the user's column mapping (timestamp, target, extra
   channels; a series id for long data) and reject what cannot be forecast at all.
3. `inspect`: infer the frequency and report gaps, duplicates, unsorted rows, missing values and
   constant columns.
4. `repair`: sort, drop duplicates, fill gaps and missing values, and say what changed.

Every problem with the user's data raises `DataError`, whose message names the problem and the fix
in plain language; nothing here prints, logs or touches a dataset that is already loaded.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

DEFAULT_MAX_UPLOAD_MB = 200  # the same limit as server.maxUploadSize in .streamlit/config.toml
DELIMITERS = [",", ";", "\t", "|"]
TIMESTAMP_NAMES = ("date", "ds", "timestamp", "time", "datetime", "period", "month", "week", "day")
ID_NAMES = ("unique_id", "id", "series", "series_id", "item_id", "key")
VALUE_NAMES = ("y", "value", "target", "ot")

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


class DataError(ValueError):
    """A problem with the user's data, worded for the user: what is wrong and how to fix it."""


@dataclass
class Table:
    """A parsed file before any column has been given a role."""

    frame: pd.DataFrame
    delimiter: str
    decimal: str
    encoding: str
    timestamp_candidates: list[str]  # columns whose values parse as dates, best first
    numeric_candidates: list[str]  # columns whose values are (mostly) numbers
    id_candidates: list[str]  # text columns that look like series ids (long layout)
    notes: list[str] = field(default_factory=list)  # what the reader decided, for the user
    first_data_line: int = 2  # the file line of the first data row (for messages)

    @property
    def layout(self) -> str:
        return "long" if self.id_candidates else "wide"


@dataclass
class ColumnMapping:
    """Which column plays which role. `timestamp=None` means rows are equally spaced steps."""

    timestamp: str | None
    target: str
    channels: list[str] = field(default_factory=list)  # extra input channels, target excluded
    id_column: str | None = None  # long layout only
    series_id: str | None = None  # which series of a long file


@dataclass
class Dataset:
    """A series ready for the engine: numeric channels on a time (or step) index, target named."""

    frame: pd.DataFrame  # index: DatetimeIndex "timestamp" or RangeIndex "step"
    target: str
    name: str
    description: str = ""
    source: str = ""
    freq: str | None = None  # pandas offset alias, None for step-indexed series
    notes: list[str] = field(default_factory=list)  # what reading it assumed, for the user

    @property
    def channels(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def has_time_index(self) -> bool:
        return isinstance(self.frame.index, pd.DatetimeIndex)

    def content_hash(self) -> str:
        """A short hash of the values and index, so that runs can name the exact data they used."""
        hashed = pd.util.hash_pandas_object(self.frame, index=True).to_numpy()
        return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]

    def summary(self) -> dict:
        index = self.frame.index
        return {
            "rows": len(self.frame),
            "start": str(index[0]) if len(index) else "",
            "end": str(index[-1]) if len(index) else "",
            "frequency": describe_frequency(self.freq),
            "channels": len(self.channels),
            "target": self.target,
        }


# ----------------------------------------------------------------------------------- reading

NA_MARKERS = ["-", "—", "?", "n/a", "N/A", "na", "null", "NULL", "none", "None", "missing"]
_TIME_ONLY = r"\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*"
_UTC_OFFSET = r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?|UTC|GMT)"  # a time with its offset
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
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines[header_line - skipped - 1 :])),
            sep=delimiter,
            decimal=decimal,
            thousands=thousands,
            header=0 if has_header else None,
            index_col=False,
            skipinitialspace=True,
            skip_blank_lines=False,  # keeps row labels equal to file lines for messages
            na_values=NA_MARKERS,
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
    frame = frame.dropna(axis=0, how="all")
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
    numeric = [c for c in frame.columns if c not in timestamps and _mostly_numeric(frame[c])]
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
    return Table(frame, delimiter, decimal, encoding, timestamps, numeric, ids, notes, first_data_line)


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
    for position, name in enumerate(frame.columns):
        column = frame[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
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
    if any(re.fullmatch(grouped, cell) for cell in _cells(lines, delimiter)):
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


def _percent_free(text: pd.Series) -> tuple[pd.Series, bool]:
    """Values written as '12%' lose the sign (they stay in percent); True when that happened."""
    values = text.dropna()
    if len(values) and values.str.endswith("%").mean() >= 0.5:
        return text.str.rstrip("%").str.strip(), True
    return text, False


def _mostly_numeric(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    values = column.dropna()
    if values.empty:
        return False
    text, _ = _percent_free(values.astype("string").str.strip())
    return pd.to_numeric(text, errors="coerce").notna().mean() >= 0.5


def _parse_once(text: pd.Series, dayfirst: bool) -> tuple[pd.Series, str | None]:
    """One reading of a date column; time-zone offsets are resolved to naive local or UTC times."""
    try:
        parsed = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst)
    except ValueError:  # several UTC offsets, for example across a daylight-saving change
        parsed = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst, utc=True)
        return parsed.dt.tz_convert(
            None
        ), "Timestamps carry different UTC offsets; they were converted to UTC."
    if getattr(parsed.dt, "tz", None) is not None:
        return parsed.dt.tz_localize(
            None
        ), "The UTC offset of the timestamps was dropped; local times are kept."
    return parsed, None


def _regularity(parsed: pd.Series) -> float:
    """Share of steps between sorted distinct times that equal the most common step."""
    times = np.sort(parsed.dropna().unique())
    if len(times) < 3:
        return 1.0
    steps = np.diff(times.astype("datetime64[ns]").astype(np.int64))
    _, counts = np.unique(steps, return_counts=True)
    return counts.max() / len(steps)


def _parse_dates(values: pd.Series, prefer_dayfirst: bool = False) -> tuple[pd.Series, list[str]]:
    """Parse text as dates (NaT where a cell is not a date) and say what was assumed.

    '03.04.2024' is 3 April in most of Europe and March 4 in the US. Both readings are tried and
    the one with fewer unreadable cells, then the more regular and ordered time axis, wins; ties go
    to day first for semicolon or decimal-comma files, else month first.
    """
    text = values.astype("string").str.strip()
    if _share(text, r"\d{4}-\d{1,2}-\d{1,2}.*") > 0.5:
        orders = (False,)  # ISO 8601 is year-month-day everywhere
    else:
        orders = (True, False) if prefer_dayfirst else (False, True)
    readings = []
    for dayfirst in orders:
        parsed, note = _parse_once(text, dayfirst)
        valid = parsed.dropna()
        score = (int(parsed.isna().sum()), -_regularity(parsed), not valid.is_monotonic_increasing)
        readings.append((score, dayfirst, parsed, note))
        if score == (0, -1.0, False):
            break  # a complete, regular, ordered reading: the other order cannot do better
    score, dayfirst, parsed, note = min(readings, key=lambda reading: reading[0])
    notes = [note] if note else []
    if dayfirst or (len(readings) == 2 and not readings[0][2].equals(readings[1][2])):
        example, first = text.dropna().iloc[0], parsed.dropna().iloc[0]
        notes.append(
            f"Dates were read {'day' if dayfirst else 'month'} first: {example} is {first:%d %B %Y}."
        )
    return parsed, notes


def _combine_date_and_time(frame: pd.DataFrame, prefer_dayfirst: bool) -> tuple[pd.DataFrame, str | None]:
    """A date column and a time-of-day column become one timestamp column."""
    times = [c for c in frame.columns if _is_text(frame[c]) and _share(frame[c], _TIME_ONLY) > 0.9]
    if not times:
        return frame, None
    for date in frame.columns:
        if date in times or not _is_text(frame[date]):
            continue
        sample = frame[date].dropna().astype("string").head(200)
        parsed, _ = _parse_dates(sample, prefer_dayfirst)
        if parsed.notna().mean() >= 0.9 and (parsed.dropna().dt.normalize() == parsed.dropna()).all():
            name = f"{date} {times[0]}"
            combined = (
                frame[date].astype("string").str.strip() + " " + frame[times[0]].astype("string").str.strip()
            )
            frame = frame.drop(columns=[date, times[0]])
            frame.insert(0, name, combined)
            return frame, f"The '{date}' and '{times[0]}' columns were combined into one timestamp, '{name}'."
    return frame, None


def _is_text(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _share(column: pd.Series, pattern: str) -> float:
    values = column.dropna().astype("string").head(200)
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def _timestamp_candidates(frame: pd.DataFrame, prefer_dayfirst: bool = False) -> list[str]:
    """Text columns whose values nearly all parse as dates, likely names first; also a year column."""
    found = []
    for name in frame.columns:
        column = frame[name].dropna()
        if column.empty:
            continue
        if pd.api.types.is_numeric_dtype(column):
            if name.lower() == "year" and _looks_like_years(column):
                found.append(name)
            continue
        if _share(column, r"\s*[-+]?\d+([.,]\d+)?\s*%?") > 0.5 or _share(column, _TIME_ONLY) > 0.5:
            continue  # numbers stored as text are values, and a time of day alone is no date
        parsed, _ = _parse_dates(column.astype("string").head(200), prefer_dayfirst)
        if parsed.notna().mean() >= 0.9:
            found.append(name)
    return sorted(found, key=lambda n: (n.lower() not in TIMESTAMP_NAMES, frame.columns.get_loc(n)))


def _looks_like_years(column: pd.Series) -> bool:
    values = column.to_numpy(dtype=float)
    return bool(np.all(values == np.round(values)) and values.min() >= 1000 and values.max() <= 3000)


def _id_candidates(frame: pd.DataFrame, timestamps: list[str], numeric: list[str]) -> list[str]:
    """Columns that split a long file into series: repeated ids, each with distinct times.

    Text columns qualify by their values; numeric ones only when named like an id ('unique_id').
    """
    if not timestamps:
        return []
    time_column = frame[timestamps[0]]
    if not time_column.duplicated().any():
        return []
    found = []
    for name in frame.columns:
        if name in timestamps:
            continue
        if name in numeric and name.lower() not in ID_NAMES and not name.lower().endswith("_id"):
            continue
        n_ids = frame[name].nunique(dropna=True)
        if 2 <= n_ids <= len(frame) // 2 and not frame[[name, timestamps[0]]].duplicated().any():
            found.append(name)
    return sorted(found, key=lambda n: n.lower() not in ID_NAMES)


# ----------------------------------------------------------------------------------- mapping


def suggest_mapping(table: Table) -> ColumnMapping:
    """A sensible first mapping: the best timestamp, a target named like OT/y/value or the last
    numeric column, every other numeric column as an extra channel."""
    numeric = table.numeric_candidates
    target = next((c for c in numeric if c.lower() in VALUE_NAMES), numeric[-1])
    timestamp = table.timestamp_candidates[0] if table.timestamp_candidates else None
    id_column = table.id_candidates[0] if table.id_candidates else None
    series_id = None
    if id_column is not None:
        series_id = str(table.frame[id_column].dropna().iloc[0])
    channels = [c for c in numeric if c != target]
    return ColumnMapping(timestamp, target, channels, id_column, series_id)


def series_ids(table: Table, id_column: str) -> list[str]:
    return sorted(table.frame[id_column].dropna().astype(str).unique().tolist())


def build_dataset(
    table: Table,
    mapping: ColumnMapping,
    name: str,
    *,
    description: str = "",
    source: str = "upload",
    min_rows: int | None = None,
) -> Dataset:
    """Apply the mapping; refuse targets with text, no values or infinities, time axes that are no
    time axes, and short series.

    Duplicates, gaps, unsorted rows and missing values are not refused here: `inspect` reports
    them and `repair` fixes them, so the user sees and chooses what changes.
    """
    frame = table.frame
    if mapping.id_column is not None:
        if mapping.series_id is None:
            raise DataError("This file holds several series. Pick one in 'Series'.")
        frame = frame[frame[mapping.id_column].astype(str) == str(mapping.series_id)]
        if frame.empty:
            raise DataError(f"No rows belong to series '{mapping.series_id}'. Pick another series.")
    columns = [c for c in mapping.channels if c != mapping.target] + [mapping.target]
    for column in columns + ([mapping.timestamp] if mapping.timestamp else []):
        if column not in frame.columns:
            raise DataError(f"There is no column '{column}' in the file. Pick one from the list.")

    line = table.first_data_line
    notes: list[str] = []
    values = pd.DataFrame(
        {c: _to_numbers(frame[c], c, c == mapping.target, line, notes) for c in columns}, index=frame.index
    )
    if values[mapping.target].isna().all():
        raise DataError(
            f"The target column '{mapping.target}' has no values: every cell is empty or "
            "missing. Pick another target column or fill in the values."
        )
    infinite = np.isinf(values.to_numpy(dtype=float))
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        count = int(infinite.sum())
        where = f"line {frame.index[row] + line}"
        if count > 1:
            where += f", with {count} such cells in all"
        fix = (
            "them with real numbers or leave the cells"
            if count > 1
            else "it with a real number or leave the cell"
        )
        raise DataError(
            f"Column '{columns[col]}' holds an infinite value ({values.iat[row, col]}) on {where}. "
            f"Replace {fix} empty."
        )

    if mapping.timestamp is None:
        values.index = pd.RangeIndex(len(values), name="step")
    else:
        prefer_dayfirst = table.delimiter == ";" or table.decimal == ","
        timestamps = _to_timestamps(frame[mapping.timestamp], mapping.timestamp, line, prefer_dayfirst, notes)
        values.index = pd.DatetimeIndex(timestamps, name=mapping.timestamp)
        _refuse_odd_time_axis(values.index, mapping.timestamp, frame.index + line)

    dataset = Dataset(values, mapping.target, name, description, source, notes=notes)
    if mapping.id_column is not None and min_rows is not None and len(values) < min_rows:
        lengths = table.frame.groupby(table.frame[mapping.id_column].astype(str)).size()
        if lengths.max() < min_rows:
            raise DataError(
                f"Every series in this file is shorter than the look-back plus horizon ({min_rows}): "
                f"the longest, '{lengths.idxmax()}', has {lengths.max()} rows. Use longer series, or "
                "lower the look-back or horizon in the sidebar."
            )
    require_rows(dataset, min_rows)
    dataset.freq = infer_frequency(values.index)
    return dataset


def _refuse_odd_time_axis(index: pd.DatetimeIndex, name: str, lines: pd.Index) -> None:
    """One timestamp on every row, or one far away from all the others (9999-12-31, a year typo)."""
    if len(index) > 1 and index.nunique() == 1:
        raise DataError(
            f"Every row has the same timestamp ({index[0]}) in column '{name}', so it is not the time "
            "axis (an export or report date?). Pick another timestamp column, or 'none (equally "
            "spaced rows)'."
        )
    times = index.unique().sort_values()
    if len(times) < 10:
        return
    steps = times[1:] - times[:-1]
    typical = steps.median()
    for far, gap, rest in (
        (times[0], steps[0], times[-1] - times[1]),
        (times[-1], steps[-1], times[-2] - times[0]),
    ):
        if gap > 1000 * typical and gap > rest:
            others = times[times != far]
            raise DataError(
                f"Line {lines[np.flatnonzero(index == far)[0]]} has the timestamp {far}, far from all "
                f"the others ({others[0]} to {others[-1]}): a placeholder for a missing date, or a typo "
                "in the year? Fix or delete that row."
            )


def require_rows(dataset: Dataset, min_rows: int | None) -> None:
    """Refuse a series too short for one window of look-back plus horizon."""
    if min_rows is not None and len(dataset.frame) < min_rows:
        raise DataError(
            f"'{dataset.name}' has {len(dataset.frame)} rows, fewer than the look-back plus "
            f"horizon ({min_rows}). Use a longer series, or lower the look-back or horizon in "
            "the sidebar."
        )


def _to_numbers(column: pd.Series, name: str, is_target: bool, line: int, notes: list[str]) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    text, had_percent = _percent_free(column.astype("string").str.strip())
    if had_percent:
        notes.append(f"Column '{name}' is written in percent ('12%'); the numbers are kept in percent.")
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() & column.notna()
    if bad.any():
        first, count = bad.idxmax(), int(bad.sum())
        role = "target" if is_target else "channel"
        how_many, fix = (f"{count} such cells", "those cells") if count > 1 else ("the only such cell", "it")
        raise DataError(
            f"The {role} column '{name}' should hold numbers, but line {first + line} holds "
            f"'{_clip(text[first])}' ({how_many}). Fix or empty {fix}, or pick another column."
        )
    return parsed.astype(float)


def _to_timestamps(
    column: pd.Series, name: str, line: int, prefer_dayfirst: bool, notes: list[str]
) -> pd.Series:
    if pd.api.types.is_numeric_dtype(column):
        if not _looks_like_years(column.dropna()):
            raise DataError(
                f"Column '{name}' holds numbers, not dates. Pick a date column as the timestamp, "
                "or choose 'none (equally spaced rows)'."
            )
        parsed = pd.to_datetime(column.astype("Int64").astype(str), format="%Y", errors="coerce")
    else:
        text = column.dropna().astype("string").str.strip()
        offset = text.str.fullmatch(r".*" + _UTC_OFFSET)
        if offset.any() and not offset.all():
            with_, without = offset.idxmax(), (~offset).idxmax()
            raise DataError(
                f"Some timestamps in column '{name}' carry a UTC offset and others do not: line "
                f"{with_ + line} has one ('{_clip(text[with_])}'), line {without + line} has none "
                f"('{_clip(text[without])}'). A time without an offset could be in any time zone; "
                "give every timestamp its offset, or none."
            )
        parsed, date_notes = _parse_dates(column, prefer_dayfirst)
        notes.extend(date_notes)
    bad = parsed.isna()
    if bad.any():
        first, count = bad.idxmax(), int(bad.sum())
        which, fix = (f"{count} cells that are not dates, the first", "those cells")
        if count == 1:
            which, fix = "1 cell that is not a date,", "it"
        raise DataError(
            f"The timestamp column '{name}' has {which} on line {first + line} "
            f"('{_clip(column[first])}'). Fix {fix}, or choose 'none (equally spaced rows)' as the "
            "timestamp."
        )
    return parsed


# ----------------------------------------------------------------------------------- checks


@dataclass
class Problem:
    kind: str  # duplicates | unsorted | gaps | missing | constant | irregular
    message: str
    needs_repair: bool  # the series cannot be used as it is
    blocking: bool = False  # ... and `repair` cannot fix it: the file or the column choice must change


def infer_frequency(index: pd.Index) -> str | None:
    """A pandas offset alias for a time index, tolerant of gaps, duplicates and disorder."""
    if not isinstance(index, pd.DatetimeIndex):
        return None
    unique = index.dropna().unique().sort_values()
    if len(unique) < 3:
        return None
    freq = _infer_alias(unique)
    if freq is not None:
        return freq
    # With gaps, infer_freq gives up; the most common alias over short runs is the answer.
    votes = Counter()
    for start in range(0, len(unique) - 4, max(1, len(unique) // 50)):
        alias = _infer_alias(unique[start : start + 5])
        if alias is not None:
            votes[alias] += 1
    if votes:
        return votes.most_common(1)[0][0]
    # Short series: the most common step, if every timestamp lies on its grid.
    steps = np.diff(unique.to_numpy().astype("datetime64[ns]")).astype(np.int64)
    values, counts = np.unique(steps, return_counts=True)
    step = int(values[np.argmax(counts)])
    if step > 0 and np.all(steps % step == 0):
        return pd.tseries.frequencies.to_offset(pd.Timedelta(step, unit="ns")).freqstr
    return None


def _infer_alias(index: pd.DatetimeIndex) -> str | None:
    """`pd.infer_freq` as a string alias (newer pandas returns an offset object)."""
    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            offset = pd.infer_freq(index)
    except (KeyError, pd.errors.OptionError):  # pandas without that option returns a string
        return pd.infer_freq(index)
    return None if offset is None else getattr(offset, "freqstr", offset)


def describe_frequency(freq: str | None) -> str:
    if freq is None:
        return "equally spaced steps"
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        return freq
    names = {
        "h": "hour",
        "min": "minute",
        "s": "second",
        "D": "day",
        "B": "business day",
        "W": "week",
        "ME": "month",
        "MS": "month",
        "QE": "quarter",
        "QS": "quarter",
        "YE": "year",
        "YS": "year",
    }
    base = offset.rule_code.split("-")[0]
    unit = names.get(base, base)
    if offset.n == 1:
        return f"every {unit} ({freq})"
    return f"every {offset.n} {unit}s ({freq})"


def expected_index(dataset: Dataset) -> pd.DatetimeIndex | None:
    """The complete regular time index from first to last timestamp, when the frequency is known."""
    if not dataset.has_time_index or dataset.freq is None:
        return None
    index = dataset.frame.index
    return pd.date_range(index.min(), index.max(), freq=dataset.freq)


def inspect(dataset: Dataset) -> list[Problem]:
    """Everything about the series that a user should know before forecasting it."""
    frame, problems = dataset.frame, []
    if dataset.has_time_index:
        duplicated = frame.index.duplicated(keep="first")
        if duplicated.any():
            examples = ", ".join(str(t) for t in frame.index[duplicated].unique()[:3])
            count = int(duplicated.sum())
            problems.append(
                Problem(
                    "duplicates",
                    f"{_plural(count, 'row')} {'repeat' if count > 1 else 'repeats'} a timestamp of an "
                    "earlier row "
                    f"(for example {examples}). Repair: keep the first row of each timestamp.",
                    True,
                )
            )
        if not frame.index.is_monotonic_increasing:
            message = "The rows are not in time order. Repair: sort by time."
            if frame.index.is_monotonic_decreasing:
                message = (
                    f"The rows run newest first, from {frame.index[0]} back to {frame.index[-1]}. "
                    "Repair: sort by time, oldest first."
                )
            problems.append(Problem("unsorted", message, True))
        expected = expected_index(dataset)
        if expected is None:
            problems.append(
                Problem(
                    "irregular",
                    "The time steps are irregular, so no frequency could be inferred; the rows "
                    "will be treated as equally spaced steps.",
                    False,
                )
            )
        else:
            missing = expected.difference(frame.index)
            grid = f"the regular {describe_frequency(dataset.freq)} grid"
            if len(missing) == 1:
                message = f"1 timestamp is missing from {grid} ({missing[0]}). "
                message += "Repair: insert it and fill its values."
                problems.append(Problem("gaps", message, True))
            elif len(missing):
                message = (
                    f"{len(missing)} timestamps are missing from {grid} (the first is {missing[0]}). "
                    "Repair: insert them and fill their values."
                )
                problems.append(Problem("gaps", message, True))
    missing_cells = frame.isna().sum()
    for column, count in missing_cells[missing_cells > 0].items():
        if count > MAX_MISSING_SHARE * len(frame):  # too many to fill: `repair` refuses
            message = _mostly_missing(dataset, column, len(frame) - int(count), len(frame))
            problems.append(Problem("missing", message, True, blocking=True))
        else:
            fill = "fill them" if count > 1 else "fill it"
            message = f"Column '{column}' has {_plural(int(count), 'missing value')}. Repair: {fill}."
            problems.append(Problem("missing", message, True))
    for column in frame.columns:
        if frame[column].nunique(dropna=True) <= 1:
            problems.append(
                Problem(
                    "constant",
                    f"Column '{column}' never changes; it carries no information to learn from.",
                    False,
                )
            )
    return problems


def needs_repair(problems: list[Problem]) -> bool:
    return any(p.needs_repair for p in problems)


def blocking(problems: list[Problem]) -> list[Problem]:
    """The problems that no repair can fix: the series cannot be loaded while one remains."""
    return [p for p in problems if p.blocking]


FILL_METHODS = ("interpolate", "ffill")
MAX_DROPPED_SHARE = 0.5  # repair refuses to drop more repeated rows than this share of the file
MAX_INSERTED_SHARE = 0.1  # ... or to invent more gap rows than this share of the result
MAX_MISSING_SHARE = 0.5  # ... or to fill a column with more than this share of its cells missing


def repair(
    dataset: Dataset,
    *,
    sort: bool = True,
    drop_duplicates: bool = True,
    fill: str | None = "interpolate",
) -> tuple[Dataset, list[str]]:
    """Fix what `inspect` found and return the new dataset with a list of what was changed."""
    frame, changes = dataset.frame.copy(), []
    if sort and not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        changes.append("Sorted the rows by time.")
    if drop_duplicates and frame.index.duplicated().any():
        count = int(frame.index.duplicated().sum())
        if count > MAX_DROPPED_SHARE * len(frame):
            raise DataError(
                f"{count} of {len(frame)} rows repeat a timestamp, too many to drop: the file probably "
                "holds several series (pick the column that names them as the series id) or keeps "
                "the date and the time of day in separate columns. Check the timestamp column."
            )
        frame = frame[~frame.index.duplicated(keep="first")]
        changes.append(
            f"Dropped {_plural(count, 'row')} that repeated an earlier timestamp (kept the first)."
        )
    result = replace(dataset, frame=frame)
    expected = expected_index(result)
    if fill is not None:
        if fill not in FILL_METHODS:
            raise ValueError(f"unknown fill method {fill!r}; choose {' or '.join(FILL_METHODS)}")
        if expected is not None and frame.index.is_unique and len(expected) > len(frame):
            added = len(expected) - len(frame)
            if added > max(MAX_INSERTED_SHARE * len(expected), 5):
                raise DataError(
                    f"Filling the gaps would invent {added} of {len(expected)} rows: the timestamps "
                    f"may be misread (day and month swapped?) or the series is not on a regular "
                    f"{describe_frequency(result.freq)} grid. Check the timestamp column."
                )
            frame = frame.reindex(expected)
            frame.index.name = dataset.frame.index.name
            changes.append(f"Inserted {_plural(added, 'missing timestamp')}.")
        missing_cells = frame.isna().sum()
        sparse = missing_cells[missing_cells > MAX_MISSING_SHARE * len(frame)]
        if len(sparse):
            present = len(frame) - int(sparse.iloc[0])
            raise DataError(_mostly_missing(dataset, sparse.index[0], present, len(frame)))
        missing = int(missing_cells.sum())
        if missing:
            if fill == "interpolate":
                filled = frame.interpolate(method="linear", limit_direction="both")
                how = "linear interpolation"
            else:
                filled = frame.ffill().bfill()
                how = "carrying the last value forward"
            frame = filled
            changes.append(f"Filled {_plural(missing, 'missing value')} by {how}.")
    result = replace(dataset, frame=frame)
    result.freq = infer_frequency(frame.index)
    return result, changes


# ----------------------------------------------------------------------------------- helpers


def _mostly_missing(dataset: Dataset, column: str, present: int, rows: int) -> str:
    """Why a mostly empty column cannot be filled, and the choices that remain for it."""
    if column != dataset.target:
        advice = "Leave it out of the extra channels, or upload"
    elif len(dataset.channels) > 1:
        advice = "Pick another target, or upload"
    else:
        advice = "Upload"
    return (
        f"Column '{column}' has values in only {present} of {rows} rows ({present / rows:.0%}); "
        f"filling the rest would invent most of the series. {advice} an extract in which it is "
        "filled in."
    )


def _plural(count: int, noun: str) -> str:
    """'1 row', '2 rows': a count with its noun, which takes an s unless the count is one."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def read_protocol_csv(path) -> pd.DataFrame:
    """A benchmark file in the Time-Series-Library layout: a date column first, then channels.

    Channels keep the file's order. Files the protocol cannot score as they are (several series,
    rows out of time order, missing values) are refused rather than silently scored.
    """
    with open(path, "rb") as handle:
        table = read_table(handle.read(), max_bytes=None)
    if table.id_candidates:
        raise DataError(
            f"{path} holds several series (column '{table.id_candidates[0]}' names them); the protocol "
            "scores one multichannel series. Pivot it to one column per series."
        )
    frame = table.frame
    numbers = pd.DataFrame(
        {c: _to_numbers(frame[c], c, False, table.first_data_line, []) for c in table.numeric_candidates}
    )
    if table.timestamp_candidates:
        stamps, _ = _parse_dates(frame[table.timestamp_candidates[0]])
        if not stamps.dropna().is_monotonic_increasing:
            raise DataError(f"The rows of {path} are not in time order; sort them first.")
    missing = int(numbers.isna().sum().sum())
    if missing:
        raise DataError(
            f"{path} has {missing} empty cells; the protocol needs complete data. Fill them first "
            "(the dashboard's Data page can)."
        )
    return numbers


def _clip(value, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1024 / 1024:.1f} MB"


def _name_delimiter(delimiter: str) -> str:
    return {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}[delimiter]


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
