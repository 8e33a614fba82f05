"""The HTTP client loads the CA bundle requests picks once per client, not once per connection.

requests hands every connection its bundle (certifi, or a ``verify`` path) and urllib3 re-loads that file
into the shared SSL context for each new connection: ~30 ms each, serialised under the GIL, paid once per
worker by a parallel fleet import. Counted here on a real TLS server (the emulator), with fresh connections.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

import pytest

from akslogin.emulator import Emulator
from akslogin.errors import TLSError
from akslogin.http import HttpClient


class CountingContext(ssl.SSLContext):
    """An SSLContext that counts bundle loads (and otherwise is the real thing)."""

    loads: list[tuple[Any, ...]]

    def load_verify_locations(self, *args: Any, **kwargs: Any) -> None:
        self.loads.append(args + tuple(sorted(kwargs.items())))
        super().load_verify_locations(*args, **kwargs)


def _counting_client(emu: Emulator, monkeypatch: pytest.MonkeyPatch, pool: int = 8) -> tuple[HttpClient, Any]:
    def build(extra_cas: Any, environ: Any) -> ssl.SSLContext:
        ctx = CountingContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.loads = []
        ctx.load_default_certs()
        for path in extra_cas:
            ctx.load_verify_locations(cafile=path)
        return ctx

    monkeypatch.setattr("akslogin.http.build_ssl_context", build)
    client = HttpClient(30, [str(emu.ca_path)], {}, pool_maxsize=pool)
    return client, client.get_adapter("https://")._ctx  # type: ignore[attr-defined]


def test_bundle_is_loaded_once_for_many_new_connections(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    client, ctx = _counting_client(emulator, monkeypatch)
    url = emulator.authority_host + "common/discovery/keys"
    before = len(ctx.loads)  # the --certificate-authority file, at build time
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            for _ in range(3):  # "Connection: close": every request opens a new TLS connection
                assert client.get(url, headers={"Connection": "close"}).status_code < 500
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(ctx.loads) - before == 1, ctx.loads[before:]  # requests' default bundle, once for 24 connections


def test_trust_is_unchanged_an_unknown_ca_is_still_refused(emulator: Emulator) -> None:
    """Without the emulator's CA the same client refuses the server, as before the change."""
    client = HttpClient(30, [], {})
    with pytest.raises(TLSError):
        client.get(emulator.authority_host + "common/discovery/keys")


def test_one_bundle_named_four_ways_is_parsed_once(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and --certificate-authority naming one file (CI images
    do this with the system bundle): parsed once, by OpenSSL's default paths, and trusted."""
    ca = str(emulator.ca_path)
    contexts: list[CountingContext] = []

    def default_context() -> ssl.SSLContext:
        ctx = CountingContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.loads = []
        ctx.load_default_certs()  # reads SSL_CERT_FILE, as ssl.create_default_context does
        contexts.append(ctx)
        return ctx

    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(var, ca)
    monkeypatch.setattr("akslogin.http.ssl.create_default_context", default_context)
    client = HttpClient(30, [ca], {"REQUESTS_CA_BUNDLE": ca, "CURL_CA_BUNDLE": ca})
    for _ in range(3):
        assert client.get(emulator.authority_host + "common/discovery/keys",
                          headers={"Connection": "close"}).status_code == 200
    assert [c.loads for c in contexts] == [[]]
