"""Numpy-only core shared by training and the Lambda handlers.

Modules: ``errors`` (validation errors), ``calendar`` (date arithmetic), ``daily_csv`` (Kaggle
daily files), ``stores`` (store.csv), ``panel`` (dense store x day arrays), ``history`` (trailing
statistics up to a forecast origin), ``features`` (the model inputs).
"""

HORIZON_DAYS = 42
"""The product forecasts up to six weeks after the last day of history: every module uses this."""
