"""What the HTTP client trusts, and that it parses each CA bundle at most once, and only when needed.

requests hands every connection its bundle (certifi, or a ``verify`` path) and urllib3 would re-load that file
into the shared SSL context for each new connection; a system bundle named in SSL_CERT_FILE, REQUESTS_CA_BUNDLE
and CURL_CA_BUNDLE would be parsed three times more; and where the system store is a hashed directory, no
bundle needs parsing until a handshake fails. Counted here on a real TLS server (the emulator).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
import requests.adapters

from akslogin import tlstrust
from akslogin.emulator import Emulator
from akslogin.errors import TLSError
from akslogin.http import HttpClient

KEYS = "common/discovery/keys"


class CountingContext(ssl.SSLContext):
    """An SSLContext that counts bundle loads (and otherwise is the real thing)."""

    loads: list[tuple[Any, ...]]

    def load_verify_locations(self, *args: Any, **kwargs: Any) -> None:
        self.loads.append(args + tuple(sorted(kwargs.items())))
        super().load_verify_locations(*args, **kwargs)


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> list[CountingContext]:
    """Every context the client builds, counting what is parsed into it after it was made."""
    made: list[CountingContext] = []

    def default_context(capath: str | None) -> ssl.SSLContext:
        ctx = CountingContext(ssl.PROTOCOL_TLS_CLIENT)
        if capath:
            super(CountingContext, ctx).load_verify_locations(capath=capath)
        else:
            ctx.load_default_certs()
        ctx.loads = []
        made.append(ctx)
        return ctx

    monkeypatch.setattr(tlstrust, "_default_context", default_context)
    return made


def _hashed_store(tmp_path: Path, *certificates: Path) -> Path:
    """A system store as update-ca-certificates writes it: hash links plus the bundle beside them."""
    store = tmp_path / "certs"
    store.mkdir(parents=True)
    bundle = b""
    for i, cert in enumerate(certificates):
        pem = cert.read_bytes()
        name = f"{_subject_hash(pem)}.{i}"
        (store / name).write_bytes(pem)
        bundle += pem
    (store / "ca-certificates.crt").write_bytes(bundle or b"")
    return store


def _subject_hash(pem: bytes) -> str:
    """OpenSSL's subject-name hash, as c_rehash names the links (from the openssl command itself)."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to name hash links")
    out = subprocess.run(["openssl", "x509", "-noout", "-subject_hash"], input=pem, capture_output=True,
                         timeout=30, check=True)
    return out.stdout.decode().strip()


def _another_ca(tmp_path: Path) -> Path:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some Other Root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path = tmp_path / "other-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_bundle_is_loaded_once_for_many_new_connections(emulator: Emulator, contexts: list[CountingContext],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    client = HttpClient(30, [str(emulator.ca_path)], {}, pool_maxsize=8)
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            for _ in range(3):  # "Connection: close": every request opens a new TLS connection
                assert client.get(emulator.authority_host + KEYS, headers={"Connection": "close"}).status_code < 500
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    (ctx,) = contexts
    parsed = [load for load in ctx.loads if ("cafile", str(emulator.ca_path)) not in load]
    # requests' own bundle at most once for 24 connections (deferred altogether where the store is lazy)
    assert len(parsed) <= 1, parsed


def test_one_bundle_named_four_ways_is_parsed_at_most_once(emulator: Emulator, contexts: list[CountingContext],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and --certificate-authority naming one file (CI images
    do this with the system bundle): trusted, and parsed once at most."""
    ca = str(emulator.ca_path)
    for var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(var, ca)
    client = HttpClient(30, [ca], {"REQUESTS_CA_BUNDLE": ca, "CURL_CA_BUNDLE": ca})
    for _ in range(3):
        assert client.get(emulator.authority_host + KEYS, headers={"Connection": "close"}).status_code == 200
    assert len([load for c in contexts for load in c.loads]) <= 1


@pytest.mark.skipif(not tlstrust.sys.platform.startswith("linux"), reason="the hashed-directory store is Linux's")
def test_a_hashed_store_parses_no_bundle_until_a_handshake_needs_one(
        emulator: Emulator, contexts: list[CountingContext], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The emulator's CA is in the system store (a hashed directory): the handshake succeeds with no bundle
    parsed at all. Then a CA that only requests' bundle (certifi) holds: the first handshake fails, the
    deferred bundles are parsed, the same request succeeds on the second try."""
    store = _hashed_store(tmp_path, emulator.ca_path)
    monkeypatch.setenv("SSL_CERT_DIR", str(store))
    monkeypatch.setenv("SSL_CERT_FILE", str(store / "ca-certificates.crt"))
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(tmp_path / "none.pem"))
    (tmp_path / "none.pem").write_bytes(b"")
    client = HttpClient(30, [], {})
    assert client.get(emulator.authority_host + KEYS).status_code == 200
    assert contexts[0].loads == []  # trusted through the directory, nothing parsed

    other = _hashed_store(tmp_path / "other", _another_ca(tmp_path))  # a store without the emulator's CA
    monkeypatch.setenv("SSL_CERT_DIR", str(other))
    monkeypatch.setenv("SSL_CERT_FILE", str(other / "ca-certificates.crt"))
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", str(emulator.ca_path))
    later = HttpClient(30, [], {})
    assert later.get(emulator.authority_host + KEYS).status_code == 200
    # certifi's stand-in was parsed when (and only because) the handshake needed it
    assert any(str(emulator.ca_path) in map(str, load) or ("cafile", str(emulator.ca_path)) in load
               for load in contexts[1].loads), contexts[1].loads


def test_trust_is_unchanged_an_unknown_ca_is_still_refused(emulator: Emulator) -> None:
    """Without the emulator's CA the same client refuses the server, also after parsing what was deferred."""
    client = HttpClient(30, [], {})
    with pytest.raises(TLSError):
        client.get(emulator.authority_host + KEYS)
