"""Developer scripts; ``scripts.stack`` holds the local-emulation and packaging tools."""
