"""The core shared by training and both Lambda handlers (numpy, onnxruntime and holidays; no pandas,
scikit-learn or TensorFlow), grouped by concern along the data path:

``data`` (Kaggle files -> dense store x day panel) -> ``features`` (tabular rows for the forest,
sequences for the LSTM) and ``covariates`` (known-future Open/Promo/holidays assumed from history)
-> ``models`` (typed manifest, verified versions, registry, forecasts) -> ``serving`` (settings,
request assembly, model cache shared by the API and the nightly batch). ``errors`` holds the base
error every domain error derives from.
"""

HORIZON_DAYS = 42
"""The product forecasts up to six weeks after the last day of history: every module uses this."""
