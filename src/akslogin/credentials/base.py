"""The credential protocol every login mode implements, and the token it returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AccessToken:
    token: str
    #: Absolute expiry (epoch seconds) taken from the token response, not from decoding the JWT.
    expires_on: float


class Credential(Protocol):
    def get_token(self, resource: str) -> AccessToken:
        """A token whose audience is ``resource`` (a server app id or an ARM endpoint)."""
        ...


def scope_for(resource: str) -> str:
    """kubelogin's rule: trim a trailing '/' and add '/.default' unless already present."""
    resource = resource.rstrip("/")
    return resource if resource.endswith("/.default") else resource + "/.default"
