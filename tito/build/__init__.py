"""Build stages: sources -> reference package (export) and -> notebooks."""
