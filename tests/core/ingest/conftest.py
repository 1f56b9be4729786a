"""What the ingest tests share besides `load_text` (in tests/core/conftest.py)."""

import pandas as pd


def hourly_stamps(fmt: str, rows: int = 300, start: str = "2024-01-01") -> list[str]:
    """Hourly timestamps from `start`, written with `fmt`."""
    return [t.strftime(fmt) for t in pd.date_range(start, periods=rows, freq="h")]
