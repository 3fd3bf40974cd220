"""The nightly batch: read the newest data, forecast every store, commit the run to S3 (see ``handler``)."""
