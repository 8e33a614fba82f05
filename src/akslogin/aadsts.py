"""What AADSTS codes mean to a CLI user, and turning an Entra error body into one actionable paragraph.

Only the slow path imports this (after a network call failed).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from akslogin.errors import AuthenticationError


class AadstsExplanation(NamedTuple):
    cause: str
    action: str


#: AADSTS codes met when a CLI signs in, in plain words: the likely cause and the next step.
#: What works where Conditional Access wants a compliant (or managed, or joined) device (issue 25).
CA_WHAT_WORKS = (
    "--login interactive signs in with a browser on this device (a compliant one passes the policy), and "
        "--login azurecli reuses az's sign-in (the OS broker on Windows); with pip install 'akslogin[broker]' "
        "and AKSLOGIN_BROKER=1, --login interactive uses the broker on Windows and macOS too. For automation "
        "use a workload identity, managed identity or service principal."
)

AADSTS: dict[int, AadstsExplanation] = {
    7000215: AadstsExplanation(
        "the client secret is wrong",
        "Check that you passed the secret's value (not its ID) for this app, or create a new secret in the "
        "app registration's 'Certificates & secrets' page.",
    ),
    7000222: AadstsExplanation(
        "the client secret has expired",
        "Create a new client secret for the app registration and update the pipeline or environment that holds it.",
    ),
    7000218: AadstsExplanation(
        "no client secret or certificate was sent",
        "Pass --client-secret (or AAD_SERVICE_PRINCIPAL_CLIENT_SECRET / AZURE_CLIENT_SECRET) or "
        "--client-certificate.",
    ),
    700016: AadstsExplanation(
        "this client id is not an application in that tenant",
        "Check --client-id and --tenant-id: the app may live in another tenant, or its service principal was "
        "deleted.",
    ),
    90002: AadstsExplanation(
        "the tenant does not exist in this cloud",
        "Check --tenant-id (a GUID or a verified domain) and --environment / --authority-host.",
    ),
    700027: AadstsExplanation(
        "the certificate's signature was not accepted: the certificate is not registered on the app, or the "
        "private key does not belong to it",
        "Upload the certificate's public part to the app registration, or point --client-certificate at the "
        "right file.",
    ),
    700024: AadstsExplanation(
        "the client assertion is outside its valid time window (often a wrong system clock, or an expired "
        "federated token file)",
        "Check this machine's clock; for workload identity make sure the projected token file is fresh.",
    ),
    700021: AadstsExplanation(
        "the client assertion was made for a different client id",
        "Use the same client id in --client-id as the one the certificate or federated token belongs to.",
    ),
    700025: AadstsExplanation(
        "this app is a public client, so it must not send a secret or certificate",
        "Drop --client-secret/--client-certificate, or use a confidential app registration for 'spn'.",
    ),
    500011: AadstsExplanation(
        "the resource (server id) is not known in that tenant",
        "Check --server-id; for AKS it is 6dae42f8-4368-4678-94ff-3960e28e3630. A value like 'spn:spn:…' means "
        "the prefix was added twice.",
    ),
    70011: AadstsExplanation(
        "the requested scope is invalid",
        "Check --server-id: it must be an application id or app id URI, without extra scopes.",
    ),
    1002012: AadstsExplanation(
        "the requested scope is invalid for app-only sign-in",
        "Check --server-id: app-only tokens need '<resource>/.default'.",
    ),
    9001023: AadstsExplanation(
        "this kind of sign-in cannot use the 'common' or 'consumers' tenant",
        "Pass your tenant's id with --tenant-id.",
    ),
    50126: AadstsExplanation(
        "the username or password is wrong",
        "Check --username/--password (AAD_USER_PRINCIPAL_NAME / AAD_USER_PRINCIPAL_PASSWORD).",
    ),
    50034: AadstsExplanation(
        "the user does not exist in that tenant",
        "Check the username and --tenant-id; guests must sign in through their home tenant's account.",
    ),
    50053: AadstsExplanation(
        "the account is locked after too many failed sign-ins",
        "Wait for the lockout to end or ask an administrator to unlock it.",
    ),
    50055: AadstsExplanation("the password has expired", "Change the password, then sign in again."),
    50057: AadstsExplanation("the user account is disabled", "Ask an administrator to enable the account."),
    50076: AadstsExplanation(
        "multi-factor authentication (MFA) is required for this sign-in",
        "Sign in with --login interactive or devicecode, where the browser can do MFA (later runs refresh without "
        "prompts); username/password (ropc) sign-in cannot. For automation use a service principal, managed "
        "identity or workload identity.",
    ),
    50079: AadstsExplanation(
        "you must register for multi-factor authentication before you can sign in",
        "Register in a browser (https://aka.ms/mfasetup), then use --login interactive or devicecode; for "
        "automation use a service principal, managed identity or workload identity.",
    ),
    53003: AadstsExplanation(
        "a Conditional Access policy blocked this sign-in",
        "Device-code and username/password sign-ins are often blocked where the policy wants a compliant device: "
        + CA_WHAT_WORKS + " If none works, ask your administrator which policy applies.",
    ),
    50173: AadstsExplanation(
        "the refresh token was revoked (password change, sign-out, or an admin revoked sessions)",
        "Sign in again: run 'akslogin get-token' interactively or your usual login once.",
    ),
    700082: AadstsExplanation(
        "the refresh token expired after 90 days without use",
        "Sign in again once; later runs will refresh silently.",
    ),
    65001: AadstsExplanation(
        "nobody has consented to this client application signing users in to the cluster's server app",
        "Ask a tenant administrator to grant admin consent to the client application (--client-id).",
    ),
    65004: AadstsExplanation(
        "the sign-in was declined in the browser",
        "Run the command again and accept the sign-in; if you did not start it, someone else may be trying to "
        "use your account.",
    ),
    50105: AadstsExplanation(
        "your account is not assigned to this application, and the tenant requires assignment",
        "Ask an administrator to assign you (or a group you are in) to the client application's enterprise app.",
    ),
    53000: AadstsExplanation(
        "a Conditional Access policy requires a compliant (managed) device, and this sign-in did not come from one",
        "Sign in from a device enrolled in your organisation's management (Intune): " + CA_WHAT_WORKS,
    ),
    53001: AadstsExplanation(
        "a Conditional Access policy requires a domain-joined device, and this sign-in did not come from one",
        "Sign in from a hybrid-joined device: " + CA_WHAT_WORKS,
    ),
    530003: AadstsExplanation(
        "a Conditional Access policy requires a managed device, and this sign-in did not come from one",
        CA_WHAT_WORKS,
    ),
    530033: AadstsExplanation(
        "a device-based Conditional Access policy blocks device-code sign-in (the code is entered on another "
        "device, which the policy cannot check)",
        "Device code cannot pass this policy: " + CA_WHAT_WORKS,
    ),
    70043: AadstsExplanation(
        "your organisation's sign-in frequency policy requires you to sign in again",
        "Sign in again once; the policy decides how long each sign-in lasts.",
    ),
    50056: AadstsExplanation(
        "the account has no password in the directory (passwordless or federated-only)",
        "Sign in with --login interactive or devicecode, which can use your passwordless method.",
    ),
    70016: AadstsExplanation(
        "the sign-in was not completed before --timeout ran out",
        "Open the page, enter the code and finish signing in within --timeout (default 60s), or raise --timeout.",
    ),
    70019: AadstsExplanation("the device code expired before the sign-in finished", "Start the sign-in again."),
    70021: AadstsExplanation(
        "no federated identity credential on the app matches the presented token",
        "Check the federated credential's issuer, subject and audience (api://AzureADTokenExchange) against the "
        "token's iss, sub and aud.",
    ),
    700213: AadstsExplanation(
        "no federated identity credential on the app matches the presented token's subject",
        "Add a federated credential whose subject matches (e.g. system:serviceaccount:<ns>:<name> or "
        "repo:<org>/<repo>:...).",
    ),
    50027: AadstsExplanation(
        "the presented assertion or token is malformed",
        "Check the certificate or federated token file you are using.",
    ),
    700212: AadstsExplanation(
        "no federated identity credential on the app accepts the presented token's audience",
        "Federated tokens must be requested for api://AzureADTokenExchange (or the audience the credential "
        "lists); check the projected token's audience or the credential's audiences.",
    ),
    50013: AadstsExplanation(
        "the federated token's signature could not be verified against its issuer's published keys",
        "The token was not signed by the issuer it names (or its keys rotated): get a fresh token from the "
        "issuer, and check the federated credential's issuer URL.",
    ),
}

_AADSTS_RE = re.compile(r"AADSTS(\d+)")
_TRACE_RE = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*", re.DOTALL)


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def clean(text: str, limit: int = 300) -> str:
    """Server-provided text made safe for one terminal line: no control characters or escape sequences."""
    flat = " ".join(_CONTROL_RE.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _first_sentence(text: str, limit: int = 240) -> str:
    end = text.find(". ")
    sentence = text if end < 0 else text[: end + 1]
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"


def describe_idp_error(body: dict[str, object]) -> AuthenticationError:
    """Turn an Entra error body into one actionable paragraph (only codes and ids, never secrets)."""
    error = clean(str(body.get("error") or "unknown_error"), 80)
    description = clean(str(body.get("error_description") or ""), 2000)
    code: int | None = None
    codes = body.get("error_codes")
    if isinstance(codes, list) and codes and isinstance(codes[0], int):
        code = codes[0]
    else:
        match = _AADSTS_RE.search(description)
        code = int(match.group(1)) if match else None
    summary = _first_sentence(_TRACE_RE.sub("", description).strip()) or error
    explanation = AADSTS.get(code) if code is not None else None
    if explanation is not None:
        message = f"sign-in failed with AADSTS{code} ({error}): {explanation.cause}."
        return AuthenticationError(message, f"{explanation.action} Entra said: {summary}", code=code)
    said = summary.rstrip(".") + "."
    if code is None:
        if error in ("temporarily_unavailable", "server_error"):
            return AuthenticationError(f"the identity provider is throttling or temporarily unavailable ({error}).",
                                       f"This is usually temporary: retry in a moment. Entra said: {said}")
        return AuthenticationError(f"sign-in failed with {error}.", f"Entra said: {said}")
    return AuthenticationError(
        f"sign-in failed with AADSTS{code} ({error}).",
        f"Entra said: {said} See https://login.microsoftonline.com/error?code={code} for details.",
        code=code,
    )
