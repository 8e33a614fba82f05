"""Azure clouds: where each one signs in and where its ARM lives. Unknown names are an error."""

from __future__ import annotations

from dataclasses import dataclass

from akslogin.errors import UsageError


@dataclass(frozen=True)
class Cloud:
    name: str
    authority_host: str  # with trailing slash
    arm_endpoint: str
    arm_resource: str


PUBLIC = Cloud(
    "AzurePublicCloud", "https://login.microsoftonline.com/", "https://management.azure.com/",
    "https://management.azure.com/",
)
CHINA = Cloud(
    "AzureChinaCloud", "https://login.chinacloudapi.cn/", "https://management.chinacloudapi.cn/",
    "https://management.chinacloudapi.cn/",
)
USGOV = Cloud(
    "AzureUSGovernmentCloud", "https://login.microsoftonline.us/", "https://management.usgovcloudapi.net/",
    "https://management.usgovcloudapi.net/",
)

_ALIASES = {
    "azurepubliccloud": PUBLIC, "azurecloud": PUBLIC, "azurepublic": PUBLIC,
    "azurechinacloud": CHINA, "azurechina": CHINA,
    "azureusgovernmentcloud": USGOV, "azureusgovernment": USGOV, "azureusgov": USGOV,
}

#: Hosts MSAL knows; anything else (ADFS, Azure Stack, an emulator) skips instance discovery.
KNOWN_AUTHORITY_HOSTS = frozenset({
    "login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net",
    "login.chinacloudapi.cn", "login.microsoftonline.us",
})


def cloud(name: str) -> Cloud:
    """Look up an environment by kubelogin's names (case-insensitive)."""
    found = _ALIASES.get(name.strip().lower())
    if found is None:
        raise UsageError(
            f"unknown --environment {name!r}.",
            "Use AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud; for Azure Stack, ADFS or another "
            "private authority pass --authority-host and --disable-instance-discovery.",
        )
    return found
