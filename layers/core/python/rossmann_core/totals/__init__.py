"""Totals: forecasts of any group of stores over any period, with 90 % bands that hold for sums.

``pool`` holds the joint residual structure a model version writes at training (chain day shocks, state and
store offsets, cell noise); ``groups`` cuts stores and days into groups and periods; ``bands`` turns a
store x day forecast matrix into group-period totals with bands drawn from the pool.
"""
