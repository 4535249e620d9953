"""Development benchmarks, kept out of the `rag` package: `python -m benchmarks.bench --help`."""
