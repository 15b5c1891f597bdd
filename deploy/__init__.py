"""Container image, Kubernetes manifests and their offline validation (`python -m deploy.validate`)."""
