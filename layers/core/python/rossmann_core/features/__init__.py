"""Model inputs, built once for training and serving: history statistics, tabular rows (forest), sequences (LSTM)."""
