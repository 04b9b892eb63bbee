"""Benchmarks: each prints a table measured against a baseline in the same run."""
