"""The direct member: LightGBM over every open store-day up to the calibration window, the store's number among its
features (docs/decisions/030-direct-model.md)."""
