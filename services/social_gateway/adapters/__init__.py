"""I/O of the social gateway: HTTP, Kafka, the dedupe store and the platform send APIs."""
