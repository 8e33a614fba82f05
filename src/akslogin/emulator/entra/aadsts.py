"""Entra ID (ESTS) error responses: the exact JSON shape, HTTP status and headers of the real service."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from akslogin.emulator.net.httpbase import Response


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
    # -- user sign-in ---------------------------------------------------------------------------
    50126: AadstsCode("invalid_grant", 400, "Error validating credentials due to invalid username or password."),
    50034: AadstsCode(
        "invalid_grant", 400,
        "The user account {upn} does not exist in the {tenant} directory. To sign into this application, the "
        "account must be added to the directory.",
    ),
    50053: AadstsCode(
        "invalid_grant", 400,
        "Your account is locked because you've tried to sign in too many times with an incorrect user ID or "
        "password.",
    ),
    50055: AadstsCode(
        "invalid_grant", 400, "The password is expired.", suberror="user_password_expired",
    ),
    50056: AadstsCode("invalid_grant", 400, "Invalid or null password: password does not exist in store for user."),
    50057: AadstsCode(
        "invalid_grant", 400, "The user account is disabled.", suberror="user_account_disabled",
    ),
    50076: AadstsCode(
        "invalid_grant", 400,
        "Due to a configuration change made by your administrator, or because you moved to a new location, you "
        "must use multi-factor authentication to access '{resource}'.",
        suberror="basic_action",
    ),
    50079: AadstsCode(
        "invalid_grant", 400,
        "Due to a configuration change made by your administrator, or because you moved to a new location, you "
        "must enroll in multi-factor authentication to access '{resource}'.",
        suberror="basic_action",
    ),
    53003: AadstsCode(
        "invalid_grant", 400,
        "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
        suberror="message_only",
    ),
    53000: AadstsCode(
        "invalid_grant", 400,
        "Device is not in required device state: compliant. Conditional Access policy requires a compliant "
        "device, and the device is not compliant. The user must enroll their device with an approved MDM "
        "provider like Intune.",
        suberror="device_authentication_failed",
    ),
    53001: AadstsCode(
        "invalid_grant", 400,
        "Device is not in required device state: domain_joined. Conditional Access policy requires a domain joined "
        "device, and the device is not domain joined. Have the user use a domain joined device.",
        suberror="device_authentication_failed",
    ),
    530003: AadstsCode(
        "invalid_grant", 400,
        "Your device is required to be managed to access this resource.",
        suberror="device_authentication_failed",
    ),
    530033: AadstsCode(
        "invalid_grant", 400,
        "Access has been blocked by Conditional Access policies. Remote device flow blocked due to a device based "
        "conditional access rule.",
        suberror="message_only",
    ),
    50105: AadstsCode(
        "invalid_grant", 400,
        "Your administrator has configured the application {app_name} ('{client_id}') to block users unless they "
        "are specifically granted ('assigned') access to the application. The signed in user '{upn}' is blocked "
        "because they are not a direct member of a group with access, nor had access directly assigned by an "
        "administrator.",
    ),
    65001: AadstsCode(
        "invalid_grant", 400,
        "The user or administrator has not consented to use the application with ID '{client_id}' named "
        "'{app_name}'. Send an interactive authorization request for this user and resource.",
        suberror="consent_required",
    ),
    65004: AadstsCode(
        "authorization_declined", 400, "User declined to consent to access the app.",
    ),
    50173: AadstsCode(
        "invalid_grant", 400,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might "
        "have changed or reset their password. The grant was issued on '{issued}' and the TokensValidFrom date "
        "(before which tokens are not valid) for this user is '{valid_from}'.",
        suberror="bad_token",
    ),
    700082: AadstsCode(
        "invalid_grant", 400,
        "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for "
        "90.00:00:00.",
        suberror="bad_token",
    ),
    70043: AadstsCode(
        "invalid_grant", 400,
        "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access. The "
        "token was issued on {issued} and the maximum allowed lifetime for this request is {limit}.",
        suberror="bad_token",
    ),
    9002313: AadstsCode("invalid_request", 400, "Invalid request. Request is malformed or invalid."),
    70000: AadstsCode(
        "invalid_grant", 400, "Provided grant is invalid or malformed.",
    ),
    70008: AadstsCode(
        "invalid_grant", 400,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive "
        "authorization request for this user and resource.",
    ),
    54005: AadstsCode("invalid_grant", 400, "OAuth2 Authorization code was already redeemed, please retry with a "
                      "new valid code or use an existing refresh token."),
    501481: AadstsCode("invalid_grant", 400, "The Code_Verifier does not match the code_challenge supplied in the "
                       "authorization request."),
    50011: AadstsCode(
        "invalid_request", 400,
        "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured "
        "for the application '{client_id}'.",
    ),
    # -- device code ------------------------------------------------------------------------------
    70016: AadstsCode(
        "authorization_pending", 400, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."
    ),
    70019: AadstsCode("expired_token", 400, "Verification code expired."),
    # -- federation (SAML bearer grants) -----------------------------------------------------------
    50008: AadstsCode("invalid_grant", 400, "SAML token is invalid. {detail}"),
    50107: AadstsCode(
        "invalid_grant", 400, "The requested federation realm object '{issuer}' does not exist.",
    ),
}


def error_response(code: int, now: float | None = None, error_name: str | None = None, **fields: str) -> Response:
    """Build the ESTS error body for ``code``; ``fields`` fill the message placeholders.

    ``error_name`` replaces the OAuth ``error`` where one code has several spellings (device flow: v1
    ``code_expired`` vs v2 ``expired_token``; ``slow_down``).
    """
    spec = CODES[code]
    when = time.gmtime(now if now is not None else time.time())
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", when)
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    text = spec.text.format_map(_Default(fields))
    body: dict[str, object] = {
        "error": error_name or spec.error,
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
