"""Data files: examples (package data, no code)."""
