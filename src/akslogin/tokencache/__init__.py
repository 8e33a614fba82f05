"""On-disk token cache: one small JSON file per identity, read with the stdlib on the hot path."""
