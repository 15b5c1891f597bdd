"""Shared plumbing for every service: config, Kafka I/O, tracing, logging and the generated contracts (`v1`)."""
