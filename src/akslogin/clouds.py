"""Azure clouds: where each one signs in and where its ARM lives. Unknown names are an error.

Imported by the get-token hot path (the cache key names the authority host), so no dataclasses here.
"""

#: Microsoft's well-known application ids, the same in every cloud (defined here once).
#: The AKS server app: the audience of every token for an Entra-enabled cluster (--server-id).
AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
#: The public client AKS kubeconfigs name (--client-id of the user modes).
AKS_CLIENT_APP_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
#: The Azure CLI's public client, which every tenant has consented to (ARM calls of the user modes).
AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


class Cloud:
    """One Azure environment. Treat as read-only."""

    __slots__ = ("arm_endpoint", "arm_resource", "authority_host", "name")

    def __init__(self, name: str, authority_host: str, arm_endpoint: str, arm_resource: str) -> None:
        self.name = name
        self.authority_host = authority_host  # with trailing slash
        self.arm_endpoint = arm_endpoint
        self.arm_resource = arm_resource

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cloud):
            return NotImplemented
        return self.name == other.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"Cloud({self.name!r})"


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


def lookup(name: str) -> "Cloud | None":
    """The environment kubelogin's name (case-insensitive) stands for, or None for a name not in the table."""
    return _ALIASES.get(name.strip().lower())


def cloud(name: str) -> "Cloud":
    """Look up an environment by kubelogin's names (case-insensitive)."""
    found = lookup(name)
    if found is None:
        from akslogin.errors import UsageError

        raise UsageError(
            f"unknown --environment {name!r}.",
            "Use AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud; for Azure Stack, ADFS or another "
            "private authority pass --authority-host and --disable-instance-discovery.",
        )
    return found
