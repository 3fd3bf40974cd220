"""The Random Forest: training rows, pipeline fit, ONNX export (compact trees), importance, training at a cutoff.

scikit-learn and skl2onnx are used in training only; serving runs the exported graph through
:mod:`rossmann_core.models.forecast` and decodes its output with the same
:data:`rossmann_core.models.forest_target.FOREST_TARGET` that :mod:`.fit` encodes the target with.
"""
