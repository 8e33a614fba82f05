"""RSA signing keys loaded without cryptography's primality test, with every signature checked instead.

cryptography validates an RSA private key as it loads it: 45 ms for a 2048-bit key and 0.6 s for a 4096-bit one
(measured here), paid on every certificate sign-in and, for an Arc PoP key, on every kubectl call. The test
guards against a damaged key: its signatures come out wrong, and a wrong RSA-CRT signature can give away the
key's factors. Checking each signature against the public key before it is used (about 0.05 ms) guards the same
thing, the textbook defence against CRT faults: a signature that verifies tells nothing, one that does not is
never sent. The cheap consistency test (p·q = n, e·d = 1 mod λ-multiples) still runs at load.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from akslogin.errors import ConfigError


class DamagedKey(ConfigError):
    """A signature made with the key does not verify with its own public key: the key file is damaged."""


def load_pem(data: bytes, password: bytes | None) -> PrivateKeyTypes:
    """A PEM private key; an RSA one comes back as a :class:`VerifiedKey`. Raises what cryptography raises for a
    file that is not a key (ValueError) or is encrypted without a password (TypeError)."""
    key = serialization.load_pem_private_key(data, password, unsafe_skip_rsa_key_validation=True)
    if isinstance(key, rsa.RSAPrivateKey):
        return VerifiedKey(key)
    return key


def _consistent(key: rsa.RSAPrivateKey) -> bool:
    numbers = key.private_numbers()
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    p, q, d = numbers.p, numbers.q, numbers.d
    return p > 1 and q > 1 and p * q == n and (e * d) % (p - 1) == 1 % (p - 1) and (e * d) % (q - 1) == 1 % (q - 1)


class VerifiedKey(rsa.RSAPrivateKey):
    """An RSA private key whose every signature is verified with its public key before it is returned
    (PyJWT and MSAL take it as the cryptography key type it is)."""

    __slots__ = ("_key", "_public")
    _key: rsa.RSAPrivateKey
    _public: rsa.RSAPublicKey

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        if isinstance(key, VerifiedKey):
            key = key._key
        if not _consistent(key):
            raise ValueError("inconsistent RSA private key")
        self._key = key
        self._public = key.public_key()

    def sign(self, data: bytes, padding: Any, algorithm: Any) -> bytes:
        signature = self._key.sign(data, padding, algorithm)
        try:
            self._public.verify(signature, data, padding, algorithm)
        except InvalidSignature:
            raise DamagedKey("the private key is damaged: a signature made with it does not match its own public "
                             "key, so it was not used (nothing was sent).",
                             "Restore the key file from where it was issued, or issue a new certificate.") from None
        return signature

    def decrypt(self, ciphertext: bytes, padding: Any) -> bytes:
        return self._key.decrypt(ciphertext, padding)

    @property
    def key_size(self) -> int:
        return self._key.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        return self._key.private_numbers()

    def private_bytes(self, encoding: serialization.Encoding, format: serialization.PrivateFormat,
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        return self._key.private_bytes(encoding, format, encryption_algorithm)

    def __copy__(self) -> VerifiedKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> VerifiedKey:
        return self

    def __repr__(self) -> str:
        return f"VerifiedKey(rsa-{self.key_size})"
