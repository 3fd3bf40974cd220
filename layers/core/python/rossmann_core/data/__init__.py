"""Reading the Kaggle files into numpy: CSV parsing, store metadata, the store x day panel, date arithmetic."""
