"""One module per command: each takes parsed input and injected I/O, and returns an exit code."""
