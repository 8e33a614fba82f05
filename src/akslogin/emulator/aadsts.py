"""Entra ID (ESTS) error responses: the exact JSON shape, HTTP status and headers of the real service."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from akslogin.emulator.httpbase import Response


@dataclass(frozen=True)
class AadstsCode:
    error: str
    status: int
    text: str  # may contain {placeholders}
    suberror: str | None = None


CODES: dict[int, AadstsCode] = {
    7000215: AadstsCode(
        "invalid_client", 401,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
        "not the client secret ID, for a secret added to app '{client_id}'.",
    ),
    7000222: AadstsCode(
        "invalid_client", 401,
        "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create "
        "new keys for your app, or consider using certificate credentials for added security.",
    ),
    7000218: AadstsCode(
        "invalid_client", 401,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    700016: AadstsCode(
        "unauthorized_client", 400,
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if "
        "the application has not been installed by the administrator of the tenant or consented to by any user in "
        "the tenant. You may have sent your authentication request to the wrong tenant.",
    ),
    90002: AadstsCode(
        "invalid_tenant", 400,
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the "
        "correct cloud. Check with your subscription administrator, this may happen if there are no active "
        "subscriptions for the tenant.",
    ),
    700027: AadstsCode(
        "invalid_client", 401,
        "Client assertion contains an invalid signature. [Reason - {reason}, Thumbprint of key used by client: "
        "'{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured "
        "keys for app Id '{client_id}'.]",
    ),
    700024: AadstsCode(
        "invalid_client", 400,
        "Client assertion is not within its valid time range. Current time: {current}, assertion valid from "
        "{nbf}, expiry time of assertion {exp}.",
    ),
    700021: AadstsCode(
        "invalid_client", 400, "Client assertion application identifier doesn't match 'client_id' parameter."
    ),
    700025: AadstsCode(
        "invalid_client", 400,
        "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
    ),
    50027: AadstsCode("invalid_request", 400, "JWT token is invalid or malformed. {detail}"),
    500011: AadstsCode(
        "invalid_resource", 400,
        "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if "
        "the application has not been installed by the administrator of the tenant or consented to by any user in "
        "the tenant. You might have sent your authentication request to the wrong tenant.",
    ),
    70011: AadstsCode(
        "invalid_scope", 400, "The provided request must include a 'scope' input parameter."
    ),
    1002012: AadstsCode(
        "invalid_scope", 400,
        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
        "/.default suffixed to the resource identifier (application ID URI).",
    ),
    900144: AadstsCode(
        "invalid_request", 400, "The request body must contain the following parameter: '{parameter}'."
    ),
    70003: AadstsCode(
        "unsupported_grant_type", 400, "The app requested an unsupported grant type '{grant_type}'."
    ),
    9001023: AadstsCode(
        "invalid_request", 400,
        "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations "
        "or tenant-specific endpoint.",
    ),
    # -- federated credentials (workload identity, GitHub Actions, Azure Pipelines) --
    70021: AadstsCode(
        "invalid_request", 400,
        "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. "
        "Assertion Subject: '{subject}'. Assertion Audience: '{audience}'. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    700212: AadstsCode(
        "invalid_request", 400,
        "No matching federated identity record found for presented assertion audience '{audience}'. Please check "
        "your federated identity credential Subject, Audience and Issuer against the presented assertion. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    700213: AadstsCode(
        "invalid_request", 400,
        "No matching federated identity record found for presented assertion subject '{subject}'. Please check "
        "your federated identity credential Subject, Audience and Issuer against the presented assertion. "
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    ),
    50013: AadstsCode(
        "invalid_client", 401, "Assertion failed signature validation. [Reason - {reason}]",
    ),
}


def error_response(code: int, now: float | None = None, **fields: str) -> Response:
    """Build the ESTS error body for ``code``; ``fields`` fill the message placeholders."""
    spec = CODES[code]
    when = time.gmtime(now if now is not None else time.time())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", when)
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    text = spec.text.format_map(_Default(fields))
    body: dict[str, object] = {
        "error": spec.error,
        "error_description": (
            f"AADSTS{code}: {text} Trace ID: {trace_id} Correlation ID: {correlation_id} Timestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    if spec.suberror:
        body["suberror"] = spec.suberror
    return Response.json(
        spec.status,
        body,
        {
            "Cache-Control": "no-store, no-cache",
            "x-ms-ests-server": "akslogin-emulator",
            "x-ms-clitelem": f"1,{code},0,,",
            "client-request-id": correlation_id,
        },
    )


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
