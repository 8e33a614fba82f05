"""Clouds: --environment names map to authority hosts (unknown names are an error, never public cloud),
--authority-host overrides them, and instance discovery happens only on Microsoft's own hosts.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

from akslogin import options
from akslogin.clouds import cloud
from akslogin.credentials.msal_app import resolve_authority
from akslogin.errors import UsageError


@pytest.mark.parametrize(("name", "host", "arm"), [
    ("AzurePublicCloud", "https://login.microsoftonline.com/", "https://management.azure.com/"),
    ("azurecloud", "https://login.microsoftonline.com/", "https://management.azure.com/"),
    ("AzureChinaCloud", "https://login.chinacloudapi.cn/", "https://management.chinacloudapi.cn/"),
    ("AzureUSGovernmentCloud", "https://login.microsoftonline.us/", "https://management.usgovcloudapi.net/"),
    ("AZUREUSGOVERNMENT", "https://login.microsoftonline.us/", "https://management.usgovcloudapi.net/"),
])
def test_environment_names(name: str, host: str, arm: str) -> None:
    found = cloud(name)
    assert (found.authority_host, found.arm_endpoint) == (host, arm)


@pytest.mark.parametrize("name", ["AzureGermanCloud", "AzureStackCloud", "public", ""])
def test_unknown_environment_is_an_error_not_public_cloud(name: str) -> None:
    with pytest.raises(UsageError, match="unknown --environment"):
        cloud(name)


def _authority(*argv: str):  # type: ignore[no-untyped-def]
    opts = options.parse_args(["--server-id", "x", "-t", "t1", *argv])
    options.validate(opts)
    return resolve_authority(opts)


def test_authority_host_and_instance_discovery() -> None:
    public = _authority()
    assert (public.url, public.instance_discovery) == ("https://login.microsoftonline.com/t1", True)
    assert _authority("-e", "AzureChinaCloud").url == "https://login.chinacloudapi.cn/t1"
    assert _authority("-e", "AzureChinaCloud").instance_discovery is True
    assert _authority("--disable-instance-discovery").instance_discovery is False
    stack = _authority("-e", "AzureChinaCloud", "--authority-host", "https://adfs.contoso.example/adfs")
    assert (stack.url, stack.instance_discovery) == ("https://adfs.contoso.example/adfs/t1", False)
