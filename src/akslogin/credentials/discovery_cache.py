"""OpenID and instance discovery answers kept on disk, so a token that needs the network costs one request.

MSAL fetches ``<authority>/v2.0/.well-known/openid-configuration`` (and, on Microsoft hosts, instance
discovery) in every new process before it asks for a token. Those answers are public, per authority, and
change rarely, so akslogin keeps them in ``<cache dir>/discovery.json`` for :data:`TTL` seconds.

Why not pickle MSAL's ``http_cache`` mapping (what MSAL's docs suggest): a pickle names MSAL's internal
classes, so it can break across MSAL versions, and unpickling a file is code execution for whoever can
write it. This file is plain JSON we define: only successful GETs of discovery URLs, only their status,
content type and body (no cookies, no tokens, no secrets), written atomically as 0600 in the 0700 cache
directory and read only when it is ours and private, like the token cache itself. A corrupt, foreign or
expired file is ignored and rewritten. When a request made with a cached answer cannot reach its
endpoint (network error or 404), the answers it came from are dropped, so the next run rediscovers.

MSAL gets a :class:`DiscoveryCachingClient` as its ``http_client``; every other request passes through
to :class:`akslogin.http.HttpClient` unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from akslogin import jsonlite
from akslogin.errors import CacheError, NetworkError
from akslogin.tokencache.entry import read_private

FILE_NAME = "discovery.json"
FORMAT_VERSION = 1
#: How long a discovery answer is reused (MSAL's own in-process cache keeps them as long).
TTL = 24 * 3600.0
MAX_ENTRIES = 64
MAX_BODY = 64 * 1024
MAX_FILE = 4 * 1024 * 1024
#: Path endings of the GETs worth keeping: OpenID configuration (Entra, ADFS, B2C) and instance discovery.
CACHEABLE_SUFFIXES = ("/.well-known/openid-configuration", "/discovery/instance")


def cache_path(cache_dir: str) -> str:
    return os.path.join(cache_dir, FILE_NAME)


def cache_key(url: str, params: Mapping[str, Any] | None = None) -> str | None:
    """The key of a cacheable discovery GET, or None when the URL is not one."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.path.endswith(CACHEABLE_SUFFIXES):
        return None
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += [(str(k), str(v)) for k, v in (params or {}).items()]
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, "", ""))
    return base + ("?" + urllib.parse.urlencode(sorted(query)) if query else "")


class CachedResponse:
    """A stored discovery answer, shaped like the ``requests.Response`` MSAL reads."""

    def __init__(self, url: str, status_code: int, text: str, content_type: str) -> None:
        self.url = url
        self.status_code = status_code
        self.text = text
        self.content = text.encode("utf-8")
        self.headers = {"Content-Type": content_type} if content_type else {}
        self.from_cache = True

    def json(self) -> Any:
        return jsonlite.loads(self.text)

    def raise_for_status(self) -> None:
        return None  # only 2xx answers are ever stored


def _usable_body(text: str) -> bool:
    """Only JSON objects without an ``error`` member are worth keeping (OIDC config, instance metadata)."""
    if len(text) > MAX_BODY:
        return False
    try:
        data = jsonlite.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and "error" not in data


class DiscoveryCache:
    """The on-disk store: ``{"version": 1, "entries": {key: {stored_at, status, content_type, body}}}``."""

    def __init__(self, path: str, ttl: float = TTL, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl
        self.clock = clock

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = read_private(self.path, limit=MAX_FILE)
        except CacheError:
            return {}  # not ours or open to others: never trusted, replaced on the next write
        if not raw:
            return {}
        try:
            data = jsonlite.loads(raw)
        except ValueError:  # cut short, not JSON, or over the bounds: kept aside for a look, then rebuilt
            self._quarantine()
            return {}
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            return {}
        entries = data.get("entries")
        if not isinstance(entries, dict):
            return {}
        return {k: v for k, v in entries.items() if isinstance(k, str) and self._valid(v)}

    def _quarantine(self) -> None:
        from akslogin.tokencache.store import quarantine

        with contextlib.suppress(OSError):
            quarantine(self.path)

    def _valid(self, entry: Any) -> bool:
        if not isinstance(entry, dict):
            return False
        stored_at, status, body = entry.get("stored_at"), entry.get("status"), entry.get("body")
        if not isinstance(stored_at, (int, float)) or isinstance(stored_at, bool):
            return False
        if not isinstance(status, int) or not 200 <= status < 300 or not isinstance(body, str):
            return False
        age = self.clock() - stored_at
        return 0 <= age < self.ttl  # a time in the future (clock moved back) is not trusted either

    def lookup(self, key: str) -> CachedResponse | None:
        entry = self._load().get(key)
        if entry is None:
            return None
        return CachedResponse(key, int(entry["status"]), str(entry["body"]), str(entry.get("content_type") or ""))

    def remember(self, key: str, response: Any) -> bool:
        """Store ``response`` under ``key`` if it is a 2xx JSON discovery answer; True if stored."""
        status = getattr(response, "status_code", 0)
        text = getattr(response, "text", None)
        if not isinstance(status, int) or not 200 <= status < 300 or not isinstance(text, str):
            return False
        if not _usable_body(text):
            return False
        headers = getattr(response, "headers", None) or {}
        content_type = str(headers.get("Content-Type") or headers.get("content-type") or "")[:200]
        entries = self._load()
        entries[key] = {"stored_at": int(self.clock()), "status": status, "content_type": content_type,
                        "body": text}
        self._write(entries)
        return True

    def forget(self, keys: set[str]) -> None:
        entries = self._load()
        if any(k in entries for k in keys):
            self._write({k: v for k, v in entries.items() if k not in keys})

    def _write(self, entries: dict[str, dict[str, Any]]) -> None:
        from akslogin.tokencache import store

        newest = sorted(entries.items(), key=lambda kv: kv[1]["stored_at"], reverse=True)[:MAX_ENTRIES]
        payload = json.dumps({"version": FORMAT_VERSION, "entries": dict(newest)}, indent=1, sort_keys=True)
        # A cache that cannot be written only costs a discovery request next time.
        with contextlib.suppress(OSError, CacheError):
            store.atomic_write(self.path, payload.encode("utf-8"))


class DiscoveryCachingClient:
    """MSAL's ``http_client``: discovery GETs from :class:`DiscoveryCache`, everything else passed through.

    Attributes it does not define (``last_error``, ``close``, ``timeout``...) are those of the wrapped client.
    """

    def __init__(self, http: Any, cache: DiscoveryCache) -> None:
        self._http = http
        self._cache = cache
        #: keys answered from disk in this process (dropped again if their endpoints turn out stale)
        self.served_from_cache: set[str] = set()

    def get(self, url: str, params: Mapping[str, Any] | None = None, **kwargs: Any) -> Any:
        key = cache_key(url, params)
        if key is not None:
            hit = self._cache.lookup(key)
            if hit is not None:
                self.served_from_cache.add(key)
                return hit
        response = self._http.get(url, params=params, **kwargs)
        if key is not None:
            self._cache.remember(key, response)
        return response

    def post(self, url: str, *args: Any, **kwargs: Any) -> Any:
        try:
            response = self._http.post(url, *args, **kwargs)
        except NetworkError:
            self._drop_served()
            raise
        if getattr(response, "status_code", 0) == 404:
            self._drop_served()
        return response

    def _drop_served(self) -> None:
        if self.served_from_cache:
            self._cache.forget(self.served_from_cache)
            self.served_from_cache = set()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_http", "_cache"):
            raise AttributeError(name)
        return getattr(self._http, name)


def wrap(http: Any, path: str) -> Any:
    """What to hand MSAL as ``http_client``: ``http`` itself when there is no cache file to use."""
    return DiscoveryCachingClient(http, DiscoveryCache(path)) if path else http
