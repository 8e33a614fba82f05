"""What other test files take from test_hot_path.py."""

from __future__ import annotations

import time
from pathlib import Path

from akslogin import options
from akslogin.tokencache import store
from akslogin.tokencache.key import authority_for_key, identity_key


def _seed(cache_dir: Path, argv: list[str]) -> None:
    """Write a valid cache entry for ``argv`` directly (no network needed for a cache hit)."""
    opts = options.parse_args(argv)
    options.apply_env(opts, {})
    options.validate(opts)
    key = identity_key(opts, authority_for_key(opts))
    store.prepare(str(cache_dir))
    store.write_entry(str(cache_dir), key, "header.payload.signature", time.time() + 3600, opts.login)
