"""Data files: tables (package data, no code)."""
