"""Export the Keras model to ONNX with tf2onnx and check onnxruntime against Keras."""

import numpy as np

from rossmann_core.features.sequences import INPUT_NAMES, OUTPUT_NAME

ONNX_OPSET = 17


def to_onnx(model) -> bytes:
    """The functional model as ONNX; inputs keep their ``keras.Input`` names, batch dimension dynamic."""
    import tensorflow as tf
    import tf2onnx

    names = tuple(tensor.name for tensor in model.inputs)
    if names != INPUT_NAMES:
        raise ValueError(f"model inputs {names} differ from {INPUT_NAMES}")
    signature = [tf.TensorSpec((None, *tensor.shape[1:]), tensor.dtype, name=tensor.name) for tensor in model.inputs]
    proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=ONNX_OPSET)
    return proto.SerializeToString()


def input_specs(feed: dict[str, np.ndarray]) -> dict[str, dict]:
    """Name -> shape (batch as null) and dtype, for the manifest."""
    return {name: {"shape": [None, *array.shape[1:]], "dtype": str(array.dtype)} for name, array in feed.items()}


def parity(onnx_model: bytes, model, feed: dict[str, np.ndarray]) -> float:
    """Max |onnxruntime - Keras| of the scaled outputs on ``feed``."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    onnx_out = session.run([OUTPUT_NAME], feed)[0]
    keras_out = model.predict(feed, batch_size=1024, verbose=0)
    return float(np.max(np.abs(onnx_out - keras_out)))
