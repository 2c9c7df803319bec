"""Data files: profiles (package data, no code)."""
