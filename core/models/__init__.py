"""Forecasting models. Every forecaster maps a batch (B, L, C) to (B, H, C)."""
