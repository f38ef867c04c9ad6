"""The aggregator's benchmark: ``python -m benchmarks`` (see benchmarks/README.md)."""
