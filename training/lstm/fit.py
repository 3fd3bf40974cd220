"""Fit the Keras model: TensorFlow threads and seeds, early stopping, one log line per epoch."""

import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..config import LstmSettings

log = logging.getLogger(__name__)


def configure_tensorflow(settings: LstmSettings) -> None:
    """Limit TensorFlow to ``settings.threads`` threads (call before building; :func:`set_seed` per model)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(settings.threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(settings.threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        log.debug("TensorFlow threads were already configured in this process")


def set_seed(seed: int) -> None:
    """Fix the Python, numpy and TensorFlow seeds (weights' initialisation, dropout, shuffling)."""
    import keras

    keras.utils.set_random_seed(seed)


def fit(
    model, train: tuple[dict[str, np.ndarray], np.ndarray], validation: tuple[dict[str, np.ndarray], np.ndarray],
    settings: LstmSettings, validation_rmspe: Callable[[Any], float],
) -> list[dict[str, float]]:
    """Train with early stopping on the validation RMSPE (best weights restored); the per-epoch log.

    ``validation_rmspe(model)`` scores the validation windows in sales space; it is added to Keras'
    epoch logs as ``val_rmspe`` before EarlyStopping reads them (the validation MSE in log space
    weighs over- and under-forecasts alike, RMSPE does not).
    """
    import keras

    epochs: list[dict[str, float]] = []

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            seconds = time.perf_counter() - self.started
            logs["val_rmspe"] = validation_rmspe(self.model)
            record = {"epoch": epoch + 1, "loss": float(logs["loss"]), "val_loss": float(logs["val_loss"]),
                      "val_rmspe": logs["val_rmspe"], "seconds": round(seconds, 1)}
            epochs.append(record)
            log.info("epoch %d/%d: loss %.5f, val_loss %.5f, val RMSPE %.4f, %.1f s", record["epoch"],
                     settings.epochs, record["loss"], record["val_loss"], record["val_rmspe"], seconds)

    stop = keras.callbacks.EarlyStopping(monitor="val_rmspe", mode="min", patience=settings.patience,
                                         restore_best_weights=True)
    model.fit(
        *train, validation_data=validation, batch_size=settings.batch_size, epochs=settings.epochs,
        shuffle=True, verbose=0, callbacks=[EpochLog(), stop],
    )
    return epochs
