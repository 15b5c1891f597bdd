"""Social gateway: signed platform webhooks in, ContactEvents on Kafka, agent replies back out."""
