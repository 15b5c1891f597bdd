"""Benchmarks: the raw broker baseline, the router core, each gateway and the whole pipeline, in one run."""
