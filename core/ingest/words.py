"""How the ingest messages write counts, lists of names and runs of line numbers."""

from __future__ import annotations


def _plural(count: int, noun: str) -> str:
    """'1 row', '2 rows', '1,200 columns': a count with its noun, which takes an s unless it is one."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _clip(value, width: int = 40) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _names(names: list[str], most: int = 10) -> str:
    """'a, b and c', or the first `most` and how many more: 'c3, c7, …, c40 and 1,188 more'."""
    quoted = [f"'{_clip(n, 30)}'" for n in names]
    if len(quoted) > most:
        return ", ".join(quoted[:most]) + f" and {len(quoted) - most:,} more"
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as runs of consecutive ones: [2, 3, 4, 9] -> [(2, 4), (9, 9)]."""
    runs: list[tuple[int, int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def _lines(numbers: list[int], most: int = 3) -> str:
    """'line 7', 'lines 2–40', 'lines 2–40, 45 and 50–60', 'lines 2–4, 9, 12–20 and 5 more runs'."""
    runs = [f"{a}" if a == b else f"{a}–{b}" for a, b in _runs(numbers)]
    if len(numbers) == 1:
        return f"line {runs[0]}"
    if len(runs) > most:
        return "lines " + ", ".join(runs[:most]) + f" and {_plural(len(runs) - most, 'more run')}"
    return "lines " + (runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " and " + runs[-1])
