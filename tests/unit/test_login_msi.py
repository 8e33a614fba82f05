"""--login msi end to end: real kubectl → akslogin → the emulated IMDS / App Service / Arc endpoint of a
"host" → an API server that authenticates the managed identity by object id.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from akslogin.credentials.arc import MAX_KEY_SIZE, ArcClient, read_key_file
from akslogin.errors import AuthenticationError, ConfigError


class _Challenge:
    def __init__(self, realm: str) -> None:
        self.status_code = 401
        self.headers = {"WWW-Authenticate": f"Basic realm={realm}"}


class _NoSecondCall:
    def __init__(self, realm: str) -> None:
        self.realm = realm
        self.calls = 0

    def get(self, url: str, **kwargs: object) -> _Challenge:
        self.calls += 1
        if self.calls > 1:
            raise AssertionError("the key must not be sent")
        return _Challenge(self.realm)


def _arc(key_dir: Path, realm: str) -> ArcClient:
    return ArcClient("http://127.0.0.1:1/metadata/identity/oauth2/token", str(key_dir), _NoSecondCall(realm), None,
                     time.time)


def test_arc_key_file_must_be_a_small_regular_file_inside_the_key_dir(tmp_path: Path) -> None:
    keys = tmp_path / "tokens"
    keys.mkdir()
    (keys / "big.key").write_bytes(b"k" * (MAX_KEY_SIZE + 1))
    (tmp_path / "elsewhere.key").write_text("secret")
    os.symlink(tmp_path / "elsewhere.key", keys / "link.key")
    (keys / "dir.key").mkdir()
    with pytest.raises(ConfigError, match="larger than 4096 bytes"):
        _arc(keys, "/var/opt/azcmagent/tokens/big.key").get_token("r")
    with pytest.raises(ConfigError, match="symbolic link"):
        _arc(keys, "/var/opt/azcmagent/tokens/link.key").get_token("r")
    with pytest.raises(ConfigError, match="not a regular file"):
        _arc(keys, "/var/opt/azcmagent/tokens/dir.key").get_token("r")
    with pytest.raises(ConfigError, match="No such file"):
        _arc(keys, "/var/opt/azcmagent/tokens/missing.key").get_token("r")
    # Only the base name of the realm counts: a path pointing elsewhere still reads inside the key dir.
    with pytest.raises(ConfigError, match=str(keys / "elsewhere.key")):
        _arc(keys, str(tmp_path / "elsewhere.key")).get_token("r")
    with pytest.raises(AuthenticationError, match="unusable key file"):
        _arc(keys, "/var/opt/azcmagent/tokens/..").get_token("r")
    (keys / "ok.key").write_text("  s3cret \n")
    assert read_key_file(str(keys / "ok.key")) == "s3cret"


@pytest.mark.parametrize(("environ", "name", "endpoint"), [
    ({}, "IMDS", "http://169.254.169.254/metadata/identity/oauth2/token"),
    ({"AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://10.0.0.4:2579/"}, "IMDS",
     "http://10.0.0.4:2579/metadata/identity/oauth2/token"),
    ({"IDENTITY_ENDPOINT": "http://127.0.0.1:41000/msi/token", "IDENTITY_HEADER": "h"}, "App Service",
     "http://127.0.0.1:41000/msi/token"),
    ({"IDENTITY_ENDPOINT": "https://10.0.0.5:2377/token", "IDENTITY_HEADER": "h", "IDENTITY_SERVER_THUMBPRINT": "t"},
     "Service Fabric", "https://10.0.0.5:2377/token"),
    ({"MSI_ENDPOINT": "http://127.0.0.1:46808/msi/token", "MSI_SECRET": "s"}, "Azure Machine Learning",
     "http://127.0.0.1:46808/msi/token"),
    ({"IDENTITY_ENDPOINT": "http://localhost:40342/metadata/identity/oauth2/token",
      "IMDS_ENDPOINT": "http://localhost:40342"}, "Azure Arc", "http://localhost:40342/metadata/identity/oauth2/token"),
    ({"MSI_ENDPOINT": "http://localhost:50342/oauth2/token", "AZUREPS_HOST_ENVIRONMENT": "cloud-shell/1.0"},
     "Cloud Shell", "http://localhost:50342/oauth2/token"),
])
def test_endpoint_detection_follows_msal_order(environ: dict[str, str], name: str, endpoint: str) -> None:
    from akslogin.credentials.managed_identity import detect_source

    source = detect_source(environ)
    assert (source.name, source.endpoint, source.via_msal) == (name, endpoint,
                                                               name not in ("Azure Arc", "Cloud Shell"))
