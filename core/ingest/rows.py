"""Lines of a CSV file that are not data rows, found by their line before the table is parsed.

Spreadsheet exports carry rows that are no measurement: a units row under the header (',£,°C'),
summary rows ('Total', 'Average:') at the end or the start, the header again where two exports were
joined, and Excel's error values ('#DIV/0!') in cells. Read as data they would put a 99,999 into the
series or turn a column of numbers into text. `set_aside` blanks those lines (so that the row
labels pandas gives stay file lines) and says in a note what it left out; Excel errors stay in place
for the reader to take as missing values, and are counted. Units also come from column names
('sales (£)', 'load [kWh]', 'price_usd'): `unit_from_name`.
"""

from __future__ import annotations

import csv
import re
from collections import Counter

from core.ingest.words import _clip, _lines, _plural

NA_MARKERS = ["-", "—", "?", "n/a", "N/A", "na", "null", "NULL", "none", "None", "missing"]
EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!")
_SUMMARY_WORDS = r"total|totals|sum|average|avg|mean|median|min|minimum|max|maximum|count"
_SUMMARY = re.compile(rf"(grand[\s_-]*)?(sub[\s_-]*)?({_SUMMARY_WORDS})\s*[:.]?", re.IGNORECASE)
_SUMMARY_PROBES = ("tot", "sum", "av", "mean", "median", "min", "max", "count")  # which lines to parse
_MONTHS = r"jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_DATE_LIKE = re.compile(
    rf"\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}|\d{{4}}-\d{{1,2}}|\d{{1,2}}:\d{{2}}|^\d{{8}}$|({_MONTHS})[a-z]*\.?\s*\d",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"[-+]?(\d+|\d{1,3}([,. ]\d{3})+)([.,]\d+)?([eE][-+]?\d+)?\s*%?|[-+]?[.,]\d+")
_UNIT_WORDS = {  # a column name's last word -> the unit it names ('price_usd', 'load_kwh')
    "usd": "USD",
    "eur": "EUR",
    "gbp": "GBP",
    "chf": "CHF",
    "jpy": "JPY",
    "cny": "CNY",
    "wh": "Wh",
    "kwh": "kWh",
    "mwh": "MWh",
    "gwh": "GWh",
    "kw": "kW",
    "mw": "MW",
    "gw": "GW",
    "pct": "%",
    "percent": "%",
    "degc": "°C",
    "degf": "°F",
    "celsius": "°C",
    "fahrenheit": "°F",
    "ppm": "ppm",
    "mm": "mm",
    "kg": "kg",
    "km": "km",
    "mph": "mph",
    "kmh": "km/h",
}
_NAMED_UNIT = re.compile(r".*\S\s*[(\[]([^()\[\]]+)[)\]]\s*")  # 'sales (£)', 'load [kWh]'
_LAST_WORD = re.compile(r".*[a-z0-9][_\-\s]+([a-z]+)\s*", re.IGNORECASE)  # 'price_usd'
_SAMPLE = 20  # rows under a units row that say which columns hold numbers


def set_aside(
    lines: list[str], header_index: int, delimiter: str, has_header: bool, skipped: int
) -> tuple[list[str], list[str], dict[str, str]]:
    """Blank the lines that are not data; return the lines, notes on what changed, and the units
    a units row gave (column name in the header -> unit).

    `header_index` is the header's position in `lines` (without a header, the first data line's);
    a file line is a position plus 1 plus `skipped` (a `sep=` line taken off before).
    """
    header = _cells(lines[header_index], delimiter) if has_header else []
    body = header_index + 1 if has_header else header_index
    repeats = _repeated_headers(lines, body, header, delimiter)
    units_rows, units = {}, {}
    for start in [header_index, *repeats] if has_header else []:
        found = _units_row(lines, start + 1, header, delimiter, set(repeats))
        if found is not None:
            index, row_units = found
            units_rows[index] = lines[index].strip()
            units = units or row_units
    summaries = _summary_rows(lines, body, delimiter, set(repeats) | set(units_rows))
    dropped = set(repeats) | set(units_rows) | set(summaries)

    notes = []
    line = skipped + 1  # file line of position 0
    if repeats:
        joined = len(repeats) + 1
        notes.append(
            f"The header row repeats on {_lines([i + line for i in repeats])}: the file looks like "
            f"{joined} files joined. The repeated header {'row was' if joined == 2 else 'rows were'} "
            "left out."
        )
    if units_rows:
        where = _lines([i + line for i in units_rows])
        holds = "holds" if len(units_rows) == 1 else "hold"
        example = _clip(units_rows[min(units_rows)], 60)
        if units:
            notes.append(
                f"{where.capitalize()} under the header {holds} units, not data ('{example}'); left "
                "out of the data, and the units kept with their columns."
            )
        else:
            notes.append(
                f"{where.capitalize()} under the header {holds} words, not data ('{example}'), as a "
                "second header row does; left out of the data."
            )
    if summaries:
        notes.append(_summary_note(summaries, lines, body, dropped, line))
    errors = _excel_errors(lines, body, delimiter, dropped, line)
    if errors:
        notes.append(errors)
    kept = [("" if i in dropped else text) for i, text in enumerate(lines)]
    return kept, notes, units


def unit_from_name(name: str) -> str:
    """The unit a column name states: 'sales (£)' -> '£', 'load [kWh]' -> 'kWh', 'price_usd' ->
    'USD'; '' when it states none."""
    bracketed = _NAMED_UNIT.fullmatch(name)
    if bracketed:
        unit = _clean_unit(bracketed.group(1))
        if unit and len(unit) <= 10 and not re.search(r"\d{2}|\d\D+\d", unit):  # not '(store 12)'
            return unit
    last = _LAST_WORD.fullmatch(name)
    if last:
        return _UNIT_WORDS.get(last.group(1).lower(), "")
    return ""


def _clean_unit(text: str) -> str:
    """'(kWh)' -> 'kWh', '[°C]' -> '°C', 'in £' -> '£'; '' for what is no unit (a phrase, a number)."""
    unit = text.strip().strip("()[]{}").strip()
    unit = re.sub(r"^in\s+", "", unit, flags=re.IGNORECASE)
    if not unit or len(unit) > 12 or re.search(r"\s", unit) or _NUMBER.fullmatch(unit):
        return ""
    return unit


def _cells(line: str, delimiter: str) -> list[str]:
    cells = [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter), [])]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _repeated_headers(lines: list[str], body: int, header: list[str], delimiter: str) -> list[int]:
    """Positions of lines that repeat the header, as where two exports were pasted one after another."""
    if not header:
        return []
    probe = max(header, key=len)
    return [i for i in range(body, len(lines)) if probe in lines[i] and _cells(lines[i], delimiter) == header]


def _units_row(
    lines: list[str], start: int, header: list[str], delimiter: str, skip: set[int]
) -> tuple[int, dict[str, str]] | None:
    """The first line under a header when it holds text but no number or date, and some of that
    text stands over a column of numbers: units (',£,°C'), or a second header row of words."""
    index = next((i for i in range(start, len(lines)) if lines[i].strip()), None)
    if index is None or index in skip:
        return None
    cells = _cells(lines[index], delimiter)
    texts = {j: c for j, c in enumerate(cells) if c and not _missing(c)}
    if not texts or any(
        _NUMBER.fullmatch(c) or _DATE_LIKE.search(c) or _SUMMARY.fullmatch(c) for c in texts.values()
    ):
        return None
    below = [
        _cells(lines[i], delimiter)
        for i in range(index + 1, min(len(lines), index + 1 + 2 * _SAMPLE))
        if lines[i].strip() and i not in skip
    ][:_SAMPLE]
    if not below:
        return None
    numeric = {
        j
        for j in texts
        if sum(j < len(row) and bool(_NUMBER.fullmatch(row[j])) for row in below) >= 0.5 * len(below)
    }
    if not numeric:
        return None
    units = {header[j]: _clean_unit(c) for j, c in texts.items() if j < len(header) and header[j]}
    return index, {name: unit for name, unit in units.items() if unit}


def _missing(cell: str) -> bool:
    return cell in NA_MARKERS or cell in EXCEL_ERRORS


def _summary_rows(lines: list[str], body: int, delimiter: str, skip: set[int]) -> dict[int, str]:
    """Positions of rows labelled 'Total', 'Sum', 'Average', 'Mean', 'Grand total:' (any case) that
    hold no date: a spreadsheet's summary under (or over) the data. Position -> the label."""
    found = {}
    for i in range(body, len(lines)):
        lower = lines[i].lower()  # a substring test is many times faster than a regular expression
        if i in skip or not any(probe in lower for probe in _SUMMARY_PROBES):
            continue
        cells = _cells(lines[i], delimiter)
        labels = [c for c in cells if _SUMMARY.fullmatch(c)]
        if labels and not any(_DATE_LIKE.search(c) for c in cells if c not in labels):
            found[i] = labels[0]
    return found


def _summary_note(
    summaries: dict[int, str], lines: list[str], body: int, dropped: set[int], line: int
) -> str:
    """'Dropped 2 summary rows at the end: line 52 'Total', line 53 'Average'.'"""
    data = [i for i in range(body, len(lines)) if lines[i].strip() and i not in dropped]
    first, last = (data[0], data[-1]) if data else (len(lines), -1)
    places: dict[str, list[str]] = {}
    for i, label in sorted(summaries.items()):
        place = "at the start" if i < first else "at the end" if i > last else "among the data"
        places.setdefault(place, []).append(f"line {i + line} '{_clip(label, 20)}'")
    count = _plural(len(summaries), "summary row")
    if len(places) == 1:
        [(place, rows)] = places.items()
        return f"Dropped {count} {place}: {_few(rows)}."
    return f"Dropped {count}: " + "; ".join(f"{_few(rows)} {place}" for place, rows in places.items()) + "."


def _few(items: list[str], most: int = 5) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def _excel_errors(lines: list[str], body: int, delimiter: str, dropped: set[int], line: int) -> str | None:
    """'Read 3 Excel error cells (#DIV/0! ×2, #N/A) as missing values: lines 14, 27 and 33.'"""
    kinds: Counter = Counter()
    where = []
    for i in range(body, len(lines)):
        if i in dropped or "#" not in lines[i]:
            continue
        found = [c for c in _cells(lines[i], delimiter) if c in EXCEL_ERRORS]  # as Excel writes them
        if found:
            kinds.update(found)
            where.append(i + line)
    if not kinds:
        return None
    shown = ", ".join(kind if n == 1 else f"{kind} ×{n}" for kind, n in kinds.most_common())
    count = sum(kinds.values())
    missing, them = ("a missing value", "it") if count == 1 else ("missing values", "them")
    return (
        f"Read {_plural(count, 'Excel error cell')} ({shown}) as {missing}: {_lines(where)}. Repair "
        f"fills {them}; to keep the real values, fix the formulas in the spreadsheet and export it again."
    )
