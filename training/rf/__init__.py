"""The Random Forest: pipeline fit, ONNX export (compact trees), importance, training at a cutoff (its rows come
from :mod:`training.tree_rows`, shared with the boosting).

scikit-learn and skl2onnx are used in training only; serving runs the exported graph through
:mod:`rossmann_core.models.forecast` and decodes its output with the same
:data:`rossmann_core.models.tree_target.BASELINE_TARGET` that :mod:`.fit` encodes the target with.
"""
