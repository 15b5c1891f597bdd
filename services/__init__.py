"""The platform services, one package each."""
