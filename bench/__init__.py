"""Benchmarks: one module per concern, each printing a table and writing JSON to bench/results."""
