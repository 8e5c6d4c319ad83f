"""Thin training entry point: ``python -m train`` (run from the repository root)."""
