"""Pure email logic: parsing, reply separation, threading rules, routing hints and acknowledgements. No I/O."""
