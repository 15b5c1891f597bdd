"""Pure logic of the social gateway: payload models, normalizers, signatures, routing hints."""
