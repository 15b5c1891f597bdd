"""The `report` console script: service figures for a time range, read from the whole of Kafka."""
