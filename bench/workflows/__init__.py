"""Benchmark workflows (imported only by flytekit's interpreter)."""
