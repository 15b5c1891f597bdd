"""The router's edges: Kafka in and out, the gRPC desk and admin services, and recovery from routing.events."""
