"""What both Lambda handlers share: settings, the model cache, forecast assembly for requests."""
