"""Azure Arc managed identity: the challenge/key-file handshake of the Arc agent (himds).

MSAL's ManagedIdentityClient implements this too, but reads the key from a hard-coded directory
(/var/opt/azcmagent/tokens), so it can only run on a real Arc server as a privileged user and cannot be
tested against the emulator. This client takes the directory from AKSLOGIN_ARC_KEY_DIR (default: the
agent's directory) and is strict about what it reads, because the file name comes from the server:

1. ``GET <endpoint>?api-version=2020-06-01&resource=<r>`` with ``Metadata: true`` → 401 with
   ``WWW-Authenticate: Basic realm=<path to a .key file>``;
2. read ``<key dir>/<basename of that path>.key``: it must be a regular file (no symlink), directly inside the
   key directory, at most 4 KB;
3. repeat the request with ``Authorization: Basic <file content>`` → IMDS-shaped token JSON.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from collections.abc import Mapping
from typing import Any

from akslogin.credentials.base import AccessToken, endpoint_token
from akslogin.errors import AuthenticationError, ConfigError

KEY_DIR_VARIABLE = "AKSLOGIN_ARC_KEY_DIR"
DEFAULT_ENDPOINT = "http://localhost:40342/metadata/identity/oauth2/token"
HIMDS_BINARY = "/opt/azcmagent/bin/himds"
MAX_KEY_SIZE = 4096
_KEY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_key_dir(environ: Mapping[str, str]) -> str:
    if sys.platform == "win32":
        return os.path.join(environ.get("ProgramData", r"C:\ProgramData"), "AzureConnectedMachineAgent", "Tokens")
    return "/var/opt/azcmagent/tokens"


class ArcClient:
    def __init__(self, endpoint: str, key_dir: str, http: Any, selector: tuple[str, str] | None,
                 clock: Any) -> None:
        self._endpoint = endpoint
        self._key_dir = key_dir
        self._http = http
        self._selector = selector  # (query parameter, value) for a user-assigned identity
        self._clock = clock

    def get_token(self, resource: str) -> AccessToken:
        params = {"api-version": "2020-06-01", "resource": resource}
        if self._selector is not None:
            params[self._selector[0]] = self._selector[1]
        challenge = self._http.get(self._endpoint, params=params, headers={"Metadata": "true"})
        if challenge.status_code != 401:
            raise AuthenticationError(
                f"the Azure Arc identity endpoint {self._endpoint} answered HTTP {challenge.status_code} instead of "
                "its key-file challenge (401).",
                "Check IDENTITY_ENDPOINT/IMDS_ENDPOINT: they must point at the Arc agent (himds).",
            )
        realm = _realm(challenge.headers.get("WWW-Authenticate", ""))
        secret = read_key_file(self._key_file(realm))
        response = self._http.get(self._endpoint, params=params,
                                  headers={"Metadata": "true", "Authorization": f"Basic {secret}"})
        token, body = endpoint_token(
            response, "Azure Arc identity endpoint", self._clock, no_json_hint=None,
            refused_hint="Check --client-id / --identity-resource-id and the resource (--server-id).")
        self._check_echo(body)
        return token

    def _check_echo(self, body: dict[str, Any]) -> None:
        """Fail closed if an agent without user-assigned support hands back the system identity instead."""
        if self._selector is None:
            return
        param, wanted = self._selector
        echoed = body.get(param) or (body.get("mi_res_id") if param == "msi_res_id" else None)
        if not isinstance(echoed, str) or echoed.lower() != wanted.lower():
            raise AuthenticationError(
                "the Azure Arc agent did not confirm the requested user-assigned identity (it may only support the "
                "system-assigned one).",
                "Drop --client-id / --identity-resource-id to use the machine's system-assigned identity, or update "
                "the Connected Machine agent.",
            )

    def _key_file(self, realm: str) -> str:
        base = realm.replace("\\", "/").rsplit("/", 1)[-1]
        stem = os.path.splitext(base)[0]
        if not _KEY_NAME_RE.match(stem):
            raise AuthenticationError("the Azure Arc challenge names an unusable key file; refusing to read it.")
        directory = os.path.realpath(self._key_dir)
        path = os.path.join(directory, stem + ".key")
        if os.path.dirname(os.path.abspath(path)) != directory:
            raise AuthenticationError("the Azure Arc challenge names a key file outside the key directory.")
        return path


def _realm(header: str) -> str:
    scheme, _, rest = header.strip().partition(" ")
    name, _, value = rest.partition("=")
    if scheme.lower() != "basic" or name.strip().lower() != "realm" or not value.strip():
        raise AuthenticationError("the Azure Arc identity endpoint sent an unrecognised WWW-Authenticate challenge.")
    return value.strip().strip('"')


def read_key_file(path: str) -> str:
    """The challenge key: a regular file (symlinks refused) of at most 4 KB."""
    hint = (f"On Arc-enabled servers only root and members of the 'himds' group can read {os.path.dirname(path)}: "
            "run as such a user (e.g. after 'sudo usermod -aG himds $USER'), or set "
            f"{KEY_DIR_VARIABLE} to the agent's key directory.")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ConfigError(f"the Azure Arc key file {path} is a symbolic link; refusing to read it.") from None
        raise ConfigError(f"cannot read the Azure Arc key file {path}: {exc.strerror}.", hint) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"the Azure Arc key file {path} is not a regular file; refusing to read it.")
        if st.st_size > MAX_KEY_SIZE:
            raise ConfigError(f"the Azure Arc key file {path} is larger than {MAX_KEY_SIZE} bytes; refusing it.")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_KEY_SIZE + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_KEY_SIZE:
        raise ConfigError(f"the Azure Arc key file {path} is larger than {MAX_KEY_SIZE} bytes; refusing it.")
    secret = data.decode("utf-8", "replace").strip()
    if not secret:
        raise ConfigError(f"the Azure Arc key file {path} is empty.")
    return secret
