"""Client certificates: the key is loaded (and validated) once and signs as a key object; the file is read
bounded and never waited on for good (issue 29.2).

Here: the unit tier (in process; no process or socket).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from akslogin.credentials.certificate import load_client_certificate
from akslogin.emulator.net.tlsmaterial import cert_pem, key_pem, new_rsa_key, self_signed
from akslogin.errors import ConfigError


@pytest.fixture
def pem(tmp_path: Path) -> Path:
    key = new_rsa_key()
    path = tmp_path / "app.pem"
    path.write_bytes(key_pem(key) + cert_pem(self_signed("app.example", key)))
    return path


def test_the_key_is_loaded_once_and_handed_on_as_an_object(pem: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyJWT signs with the key object MSAL passes through; it would load and validate PEM text again."""
    loads: list[bytes] = []
    real = serialization.load_pem_private_key

    def counting(data: bytes, password: bytes | None, **kwargs: object) -> object:
        loads.append(data)
        return real(data, password, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(serialization, "load_pem_private_key", counting)
    certificate = load_client_certificate(str(pem))
    credential = certificate.msal_credential()
    assert isinstance(credential["private_key"], rsa.RSAPrivateKey) and len(loads) == 1
    assert credential["public_certificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in repr(certificate) and "***" in repr(certificate)


def test_a_certificate_file_that_never_ends_does_not_hang(tmp_path: Path) -> None:
    """A FIFO at --client-certificate (nobody writing) is an error, not a wait without end; so is an empty file."""
    fifo = tmp_path / "cert.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is empty"):
        load_client_certificate(str(fifo))
    (tmp_path / "empty.pem").write_bytes(b"")
    with pytest.raises(ConfigError, match="is empty"):
        load_client_certificate(str(tmp_path / "empty.pem"))
