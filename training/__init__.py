"""Offline training: load and validate the Kaggle files, train, evaluate and export to ONNX."""
