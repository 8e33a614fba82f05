"""RSA keys loaded without the primality test: every signature is verified before it is returned, so a damaged
key is refused at its first signature instead of at load, and nothing it signed leaves the process."""

from __future__ import annotations

import copy

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from akslogin.rsakeys import DamagedKey, VerifiedKey, load_pem

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _altered(**changes: int) -> bytes:
    """The test key's PEM with some private numbers changed (written without validation, as a damaged file)."""
    n = _KEY.private_numbers()
    values = {"p": n.p, "q": n.q, "d": n.d, "dmp1": n.dmp1, "dmq1": n.dmq1, "iqmp": n.iqmp, **changes}
    damaged = rsa.RSAPrivateNumbers(public_numbers=n.public_numbers, **values).private_key(
        unsafe_skip_rsa_key_validation=True)
    return _pem(damaged)


def test_a_loaded_key_signs_what_pyjwt_and_the_public_key_accept() -> None:
    key = load_pem(_pem(_KEY), None)
    assert isinstance(key, VerifiedKey) and isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    for alg in ("PS256", "RS256"):  # MSAL signs client assertions PS256 (with a certificate) or RS256
        token = jwt.encode({"sub": "x"}, key, algorithm=alg)
        assert jwt.decode(token, _KEY.public_key(), algorithms=[alg]) == {"sub": "x"}
    signature = key.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    _KEY.public_key().verify(signature, b"m", padding.PKCS1v15(), hashes.SHA256())
    assert copy.copy(key) is key and copy.deepcopy(key) is key and "2048" in repr(key)


class _Faulty:
    """The key, signing wrongly (a fault in the computation): what the check after each signature is for."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key

    def __getattr__(self, name: str) -> object:
        return getattr(self.key, name)

    def sign(self, data: bytes, pad: object, algorithm: object) -> bytes:
        good = self.key.sign(data, pad, algorithm)  # type: ignore[arg-type]
        return bytes([good[0] ^ 1]) + good[1:]


def test_a_wrong_signature_never_leaves_the_key() -> None:
    key = load_pem(_pem(_KEY), None)
    assert isinstance(key, VerifiedKey)
    key._key = _Faulty(_KEY)  # type: ignore[assignment]
    with pytest.raises(DamagedKey, match="damaged") as raised:
        jwt.encode({"sub": "x"}, key, algorithm="PS256")
    assert "nothing was sent" in raised.value.message


def test_damaged_crt_values_still_sign_correctly() -> None:
    """OpenSSL checks its CRT result and recomputes without it: a damaged CRT value loads and signs right."""
    key = load_pem(_altered(dmp1=_KEY.private_numbers().dmp1 + 2), None)
    token = jwt.encode({"sub": "x"}, key, algorithm="PS256")
    assert jwt.decode(token, _KEY.public_key(), algorithms=["PS256"]) == {"sub": "x"}


def test_an_inconsistent_key_is_refused_at_load() -> None:
    n = _KEY.private_numbers()
    with pytest.raises(ValueError):
        load_pem(_altered(q=n.q + 2), None)  # p·q is no longer n
    with pytest.raises(ValueError):
        load_pem(_altered(d=n.d + 2), None)  # e·d is no longer 1 modulo p-1, q-1
    with pytest.raises(ValueError):
        load_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", None)
