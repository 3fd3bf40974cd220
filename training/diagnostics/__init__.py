"""Time-series diagnostics behind the LSTM's inputs: ``python -m training diagnose``.

``series`` (the analysed series), ``stationarity`` (ADF + KPSS), ``autocorr`` (ACF/PACF and the lags
they point to), ``figures`` (matplotlib), ``report`` (Markdown with the computed figures and the
decision they lead to).
"""
