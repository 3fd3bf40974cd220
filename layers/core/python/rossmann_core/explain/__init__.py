"""Why this number: each tree forecast as a baseline times one factor per driver a planner can read.

``tree_paths`` splits a tree ensemble's output exactly into per-feature contributions (numpy alone, from the
node values a version stores beside its ONNX graphs); ``drivers`` groups the features; ``breakdown`` turns a
model's (or a blend's) log forecast into the baseline and the drivers' factors, per day and per week, and against
the same weeks last year.
"""
