"""Where the journey's records come from (Kafka, span files) and how it is shown."""
