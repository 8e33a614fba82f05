"""Login modes. Each module implements the same small protocol (``Credential.get_token``)."""
