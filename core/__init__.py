"""Forecasting engine behind the dashboard: data, protocol, metrics, models and training.

Nothing in this package imports streamlit; the pages call into it and draw what it returns.
"""
