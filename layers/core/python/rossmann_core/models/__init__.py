"""Model versions: manifest, verified loading, registry, and turning a panel into forecasts."""
