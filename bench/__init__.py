"""Sync engine benchmarks: scripts that print their figures (`python -m bench.<name> --help`, `make bench`)."""
