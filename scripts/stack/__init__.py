"""Developer tooling around template.yaml: reading it, emulating the stack locally, packaging checks."""
