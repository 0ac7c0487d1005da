"""Benchmarks: `python -m tests.bench --users 10000,100000` (see __main__)."""
