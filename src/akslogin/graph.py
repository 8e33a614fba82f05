"""Microsoft Graph look-ups AKS RBAC needs: the object id behind an app id, a group's id from its name.

The token comes from the context's own login (same flags, resource = Graph), so nothing new is needed
from the user; without Graph access callers fall back to asking for the object id.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from akslogin import jsonlite
from akslogin.errors import AksloginError
from akslogin.http import HttpClient

#: Graph's resource (token audience) and endpoint per cloud (kubelogin's environment names).
GRAPH_BY_CLOUD = {
    "AzurePublicCloud": ("https://graph.microsoft.com/", "https://graph.microsoft.com/"),
    "AzureChinaCloud": ("https://microsoftgraph.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn/"),
    "AzureUSGovernmentCloud": ("https://graph.microsoft.us/", "https://graph.microsoft.us/"),
}
ENDPOINT_ENV = "AKSLOGIN_GRAPH_ENDPOINT"


class GraphError(AksloginError):
    """Graph refused or failed; callers turn this into "resolve it yourself" advice."""


def graph_resource_and_endpoint(cloud_name: str, override: str, environ: Mapping[str, str]) -> tuple[str, str]:
    resource, endpoint = GRAPH_BY_CLOUD.get(cloud_name, GRAPH_BY_CLOUD["AzurePublicCloud"])
    endpoint = override or environ.get(ENDPOINT_ENV) or endpoint
    return resource, endpoint.rstrip("/") + "/"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class GraphClient:
    def __init__(self, http: HttpClient, endpoint: str, token: str) -> None:
        self._http = http
        self._base = endpoint.rstrip("/") + "/v1.0/"
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        url = self._base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        response = self._http.get(url, headers=self._headers)
        if response.status_code == 404:
            return None
        try:
            data = jsonlite.loads(response.text)
        except ValueError:
            data = None
        if response.status_code >= 400:
            error = data.get("error") if isinstance(data, dict) else None
            code = error.get("code", "") if isinstance(error, dict) else ""
            message = error.get("message", "") if isinstance(error, dict) else ""
            raise GraphError(f"Microsoft Graph answered HTTP {response.status_code} {code}: {message}".rstrip(": "))
        if not isinstance(data, dict):
            raise GraphError("Microsoft Graph did not return a JSON object.")
        return data

    def service_principal_by_app_id(self, app_id: str) -> dict[str, Any] | None:
        data = self._get("servicePrincipals", {"$filter": f"appId eq {_quote(app_id)}"})
        values = data.get("value") if data else None
        return values[0] if isinstance(values, list) and values and isinstance(values[0], dict) else None

    def service_principal(self, object_id: str) -> dict[str, Any] | None:
        return self._get("servicePrincipals/" + urllib.parse.quote(object_id))

    def user(self, ref: str) -> dict[str, Any] | None:
        """A user by object id or user principal name."""
        return self._get("users/" + urllib.parse.quote(ref))

    def users_by_mail(self, mail: str) -> list[dict[str, Any]]:
        data = self._get("users", {"$filter": f"mail eq {_quote(mail)}"})
        values = data.get("value") if data else None
        return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []

    def groups_named(self, name: str) -> list[dict[str, Any]]:
        data = self._get("groups", {"$filter": f"displayName eq {_quote(name)}"})
        values = data.get("value") if data else None
        return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []
