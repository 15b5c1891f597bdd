"""The local stack: embedded broker plus every service as a separate process, for `make run`, demos and tests."""
