"""The Keras model: two stacked LSTM layers over the lookback weeks, a per-day dense head for all 42 days.

Inputs (named, see rossmann_core.features.sequences.INPUT_NAMES): ``past`` (n, weeks, 7 * past channels),
``future`` (n, 42, future channels), ``static`` (n, static features), ``store`` int32 (n, 1).
The encoder state, the static features and the store embedding form a context; the head adds a
projection of the context to a projection of each target day's inputs and maps every day through
the same two dense layers, so the 42 outputs (scaled log deviations) come out at once.
"""

import keras
from keras import layers, ops

from rossmann_core import HORIZON_DAYS
from rossmann_core.features.sequences import OUTPUT_NAME

from ..config import LstmSettings


def masked_mse(y_true, y_pred):
    """Mean squared error over the scored days; NaN targets (closed, unknown) count as zero error.

    Averaged over all HORIZON_DAYS days so every scored day weighs the same across windows.
    """
    known = ops.isfinite(y_true)
    error = ops.where(known, ops.where(known, y_true, 0.0) - y_pred, 0.0)
    return ops.sum(ops.square(error), axis=-1) / HORIZON_DAYS


def build_model(
    lookback_weeks: int, past_width: int, future_width: int, static_width: int, n_stores: int,
    settings: LstmSettings,
) -> keras.Model:
    """The uncompiled functional model; output ``deviation`` (n, HORIZON_DAYS) float32."""
    past = keras.Input((lookback_weeks, past_width), name="past")
    future = keras.Input((HORIZON_DAYS, future_width), name="future")
    static = keras.Input((static_width,), name="static")
    store = keras.Input((1,), dtype="int32", name="store")

    encoded = layers.LSTM(settings.lstm_units[0], return_sequences=True, name="lstm_1")(past)
    encoded = layers.LSTM(settings.lstm_units[1], name="lstm_2")(encoded)
    embedding = layers.Flatten()(layers.Embedding(n_stores, settings.embedding_dim, name="store_embedding")(store))
    context = layers.Concatenate()([encoded, static, embedding])
    context = layers.Dropout(settings.dropout)(context)
    context = layers.RepeatVector(HORIZON_DAYS)(layers.Dense(settings.head_units, name="context_projection")(context))
    day = layers.Dense(settings.head_units, name="day_projection")(future)
    hidden = layers.Activation("relu")(layers.Add()([context, day]))
    hidden = layers.Dense(settings.head_units, activation="relu", name="head_hidden")(hidden)
    output = layers.Dense(1, name="head_output")(hidden)
    return keras.Model([past, future, static, store], layers.Reshape((HORIZON_DAYS,), name=OUTPUT_NAME)(output))


def compile_model(model: keras.Model, settings: LstmSettings, steps_per_epoch: int) -> keras.Model:
    """Adam with the learning rate decaying along a cosine to 5 % over ``settings.epochs``."""
    schedule = keras.optimizers.schedules.CosineDecay(
        settings.learning_rate, decay_steps=settings.epochs * steps_per_epoch, alpha=0.05
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=masked_mse)
    return model
