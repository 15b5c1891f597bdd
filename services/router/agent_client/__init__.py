"""The agent client: a person's desk in a terminal, or a scripted agent (`--auto`) for demos and benchmarks."""
