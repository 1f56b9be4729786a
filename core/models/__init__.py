"""Forecasting models. Every forecaster maps scaled windows (B, L, C) to a `ForecastOutput` (B, H, C)
and says what it can do in its registry entry (`contract`, `registry`)."""
