"""Emulated AKS API servers: authentication as AKS does it (Entra tokens, client certificates, Arc PoP),
RBAC, the wire formats."""
