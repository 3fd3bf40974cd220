"""The gradient-boosted member: HistGradientBoostingRegressor on the forest's rows, features and target."""
