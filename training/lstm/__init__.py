"""The LSTM: windows and targets, (-1, 1) scaler, Keras model, fitting, ONNX export.

TensorFlow is imported only by ``model``, ``fit`` and ``export`` (training only); the inputs are built
by :mod:`rossmann_core.features.sequences`, the same code serving runs.
"""
