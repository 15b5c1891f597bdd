"""Bad-input campaigns: hypothesis-driven fuzzers that prove every input ends in an event or a counted rejection.

`python -m fuzz [--cases N] [--only TARGET]`; each target lives in `fuzz/targets/`, its corpus in `fuzz/corpus/`.
"""
