"""The forecast API's modules: schemas, routes, request middleware, JSON logs, the loaded model."""
