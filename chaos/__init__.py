"""`make chaos`: crash and fault scenarios against the real stack, each checked for lost and duplicated contacts."""
