"""The emulator's network layer: one small HTTPS server with a route table, TLS material, faults and the request log."""
