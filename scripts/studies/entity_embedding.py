"""An entity-embedding network (Guo & Berkhahn 2016, third on Kaggle's Rossmann) for the direct study's screening
(``scripts/studies/direct_gbm_study.py --library keras-ee``): the same rows and columns as the direct model, every
categorical column (the store, weekday, day of month, month, year, week of year, promotion, holidays, store type,
assortment, Promo2) through its own learnt embedding, the other columns standardised (missing values at the mean),
two dense layers, standardised log sales as the target. Keras, CPU; not a product model."""

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

EMBEDDING_SIZES = {
    "store": 10, "day_of_week": 6, "day_of_month": 10, "month": 6, "year": 2, "week_of_year": 8, "promo": 1,
    "state_holiday": 3, "school_holiday": 1, "store_type": 2, "assortment": 2, "promo2": 1, "promo2_active_month": 1,
}
"""Each embedded column and the width of its embedding (the paper's for store, weekday, day, month and year)."""
HIDDEN_UNITS = (512, 256)
EPOCHS = {"small": 8, "large": 24}
"""Epochs by the study's ``--size``."""
BATCH_SIZE = 2048
LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class EmbeddingNetwork:
    """A fitted network and the encodings of its inputs; :meth:`predict` gives log sales (n,)."""

    model: Any
    names: tuple[str, ...]
    categories: dict[str, np.ndarray]
    """Each embedded column's sorted training values; an unseen value gets the extra last index."""
    numeric_mean: np.ndarray
    numeric_scale: np.ndarray
    target_mean: float
    target_scale: float

    def inputs(self, features: np.ndarray) -> list[np.ndarray]:
        """The network's inputs of a (n, len(names)) matrix: one int32 (n,) index per embedded column, then the
        standardised float32 numeric columns (n, n_numeric)."""
        indices = []
        for name, values in self.categories.items():
            column = features[:, self.names.index(name)]
            position = np.clip(np.searchsorted(values, column), 0, len(values) - 1)
            indices.append(np.where(values[position] == column, position, len(values)).astype(np.int32))
        numeric = features[:, [self.names.index(n) for n in self.names if n not in self.categories]].astype(np.float64)
        standard = (numeric - self.numeric_mean) / self.numeric_scale
        return [*indices, np.nan_to_num(standard, nan=0.0).astype(np.float32)]

    def predict(self, features: np.ndarray) -> np.ndarray:
        scaled = self.model.predict(self.inputs(features), batch_size=16 * BATCH_SIZE, verbose=0).reshape(-1)
        return scaled.astype(np.float64) * self.target_scale + self.target_mean


def fit_embedding_network(features: np.ndarray, log_sales: np.ndarray, names: list[str], epochs: int,
                          seed: int = 0) -> EmbeddingNetwork:
    """Fit ``epochs`` passes over float32 ``features`` (n, len(names)) and their log sales (n,)."""
    import tensorflow as tf
    from tensorflow import keras

    tf.keras.utils.set_random_seed(seed)
    categories = {name: np.unique(features[:, names.index(name)]) for name in EMBEDDING_SIZES if name in names}
    numeric = features[:, [names.index(n) for n in names if n not in categories]].astype(np.float64)
    mean, scale = np.nanmean(numeric, axis=0), np.nanstd(numeric, axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    unfitted = EmbeddingNetwork(None, tuple(names), categories, mean, scale, float(log_sales.mean()),
                                float(log_sales.std()))
    cat_inputs = [keras.Input(shape=(), dtype="int32", name=name) for name in categories]
    numeric_input = keras.Input(shape=(numeric.shape[1],), name="numeric")
    embedded = [keras.layers.Embedding(len(categories[name]) + 1, EMBEDDING_SIZES[name])(layer)
                for name, layer in zip(categories, cat_inputs, strict=True)]
    hidden = keras.layers.Concatenate()([*embedded, numeric_input])
    for units in HIDDEN_UNITS:
        hidden = keras.layers.Dense(units, activation="relu")(hidden)
    model = keras.Model([*cat_inputs, numeric_input], keras.layers.Dense(1)(hidden))
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
    target = ((log_sales - unfitted.target_mean) / unfitted.target_scale).astype(np.float32)
    started = time.perf_counter()
    model.fit(unfitted.inputs(features), target, batch_size=BATCH_SIZE, epochs=epochs, shuffle=True, verbose=0)
    log.info("entity-embedding network: %d epochs on %d rows in %.0f s", epochs, len(target),
             time.perf_counter() - started)
    return replace(unfitted, model=model)
