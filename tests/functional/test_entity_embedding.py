"""The entity-embedding network of the direct study: it learns per-category levels, and an unseen category falls
back to the extra index instead of another category's embedding."""

import numpy as np

from scripts.studies.entity_embedding import fit_embedding_network


def test_the_network_learns_store_and_weekday_levels_and_maps_unseen_values_apart() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    store, dow = rng.integers(0, 30, n), rng.integers(0, 7, n)
    noise = rng.normal(0, 1, n)
    store_level, dow_level = rng.normal(8.5, 0.4, 30), np.array([0.1, 0.0, 0.0, -0.05, 0.05, 0.2, -0.3])
    log_sales = store_level[store] + dow_level[dow] + 0.02 * rng.normal(size=n)
    features = np.column_stack([store, dow, noise]).astype(np.float32)
    network = fit_embedding_network(features, log_sales, ["store", "day_of_week", "noise"], epochs=8)
    predicted = network.predict(features)
    assert np.sqrt(np.mean((predicted - log_sales) ** 2)) < 0.1 < np.std(log_sales)
    unseen = network.inputs(np.array([[99, 3, 0.0]], dtype=np.float32))
    assert unseen[0].tolist() == [30] and unseen[1].tolist() == [3]
