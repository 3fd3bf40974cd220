"""The Keras model: two stacked LSTM layers over the lookback weeks, a per-day dense head for all 42 days.

Inputs (named, see rossmann_core.features.sequences.INPUT_NAMES): ``past`` (n, weeks, 7 * past channels),
``future`` (n, 42, future channels), ``static`` (n, static features), ``store`` int32 (n, 1),
``calendar`` int32 (n, 42, calendar parts).
The encoder state, the static features and the store embedding form a context; the head adds a
projection of the context to a projection of each target day's inputs and learned embeddings of its
calendar parts, and maps every day through the same two dense layers, so the 42 outputs (scaled log
deviations) come out at once. :func:`average_of` serves several such models, fitted from different seeds,
as one graph with the same inputs and output.
"""

import keras
from keras import layers, ops

from rossmann_core import HORIZON_DAYS
from rossmann_core.features.sequences import CALENDAR_PARTS, OUTPUT_NAME

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
    settings: LstmSettings, name: str = "lstm",
) -> keras.Model:
    """The uncompiled functional model; output ``deviation`` (n, HORIZON_DAYS) float32."""
    past, future, static, store, calendar = inputs = model_inputs(lookback_weeks, past_width, future_width,
                                                                   static_width)

    encoded = layers.LSTM(settings.lstm_units[0], return_sequences=True, name="lstm_1")(past)
    encoded = layers.LSTM(settings.lstm_units[1], name="lstm_2")(encoded)
    embedding = layers.Flatten()(layers.Embedding(n_stores, settings.embedding_dim, name="store_embedding")(store))
    context = layers.Concatenate()([encoded, static, embedding])
    context = layers.Dropout(settings.dropout)(context)
    context = layers.RepeatVector(HORIZON_DAYS)(layers.Dense(settings.head_units, name="context_projection")(context))
    day_parts = [
        layers.Embedding(size, settings.calendar_embedding_dim, name=f"{part}_embedding")(calendar[..., i])
        for i, (part, size) in enumerate(CALENDAR_PARTS.items())
    ]
    day = layers.Dense(settings.head_units, name="day_projection")(layers.Concatenate()([future, *day_parts]))
    hidden = layers.Activation("relu")(layers.Add()([context, day]))
    hidden = layers.Dense(settings.head_units, activation="relu", name="head_hidden")(hidden)
    output = layers.Dense(1, name="head_output")(hidden)
    return keras.Model(inputs, layers.Reshape((HORIZON_DAYS,), name=OUTPUT_NAME)(output), name=name)


def model_inputs(lookback_weeks: int, past_width: int, future_width: int, static_width: int) -> list:
    """The named ``keras.Input`` tensors, in ``rossmann_core.features.sequences.INPUT_NAMES``' order."""
    return [
        keras.Input((lookback_weeks, past_width), name="past"),
        keras.Input((HORIZON_DAYS, future_width), name="future"),
        keras.Input((static_width,), name="static"),
        keras.Input((1,), dtype="int32", name="store"),
        keras.Input((HORIZON_DAYS, len(CALENDAR_PARTS)), dtype="int32", name="calendar"),
    ]


def average_of(models: list[keras.Model]) -> keras.Model:
    """One model with the members' inputs whose ``deviation`` output is the mean of theirs (the member itself
    when there is one)."""
    if len(models) == 1:
        return models[0]
    inputs = [keras.Input(tensor.shape[1:], dtype=tensor.dtype, name=tensor.name) for tensor in models[0].inputs]
    return keras.Model(inputs, layers.Average(name=OUTPUT_NAME)([model(inputs) for model in models]))


def compile_model(model: keras.Model, settings: LstmSettings, steps_per_epoch: int) -> keras.Model:
    """Adam with the learning rate decaying along a cosine to 5 % over ``settings.epochs``."""
    schedule = keras.optimizers.schedules.CosineDecay(
        settings.learning_rate, decay_steps=settings.epochs * steps_per_epoch, alpha=0.05
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=masked_mse)
    return model
