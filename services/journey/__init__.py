"""The journey view: one customer's contacts as timelines, from `routing.events` and the span files."""
