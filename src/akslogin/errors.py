"""The exception hierarchy every command reports through.

Each error carries one paragraph for the user (what failed, why, what to do) and an exit code. Messages
are built from identifiers and codes only, never from secrets or tokens. Stdlib-only and import-light:
the get-token hot path imports it. What AADSTS codes mean lives in :mod:`akslogin.aadsts`.
"""

from __future__ import annotations


class AksloginError(Exception):
    """Base of all errors akslogin reports to the user instead of a traceback."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"akslogin: {self.message}"
        if self.hint:
            text += f" {self.hint}"
        return text


class UsageError(AksloginError):
    """Bad flags, missing required values, contradictory options."""

    exit_code = 2


class ConfigError(AksloginError):
    """A file we were pointed at (certificate, kubeconfig, world) cannot be used."""


class CacheError(AksloginError):
    """The token cache is unsafe or unusable."""


class NetworkError(AksloginError):
    """The identity provider or API could not be reached (DNS, refused, reset, timeout)."""


class TLSError(NetworkError):
    """The server's certificate was not trusted; verification is never turned off for you."""


class DeadlineError(NetworkError):
    """The run's time limit (``--timeout``) passed: nothing more is sent, nothing is retried."""


class UnsafeResponseError(NetworkError):
    """An answer akslogin will not act on: a redirect of a sign-in request, or a body over the size limit."""


class AuthenticationError(AksloginError):
    """The identity provider refused to issue a token."""

    def __init__(self, message: str, hint: str | None = None, code: int | None = None) -> None:
        super().__init__(message, hint)
        self.code = code


def internal_error(exc: BaseException) -> str:
    """The one line printed for a bug: the exception type only (its text could hold anything), and a way
    to get the traceback for a report."""
    return (f"akslogin: internal error ({type(exc).__name__}). This is a bug in akslogin; please report it. "
            "Run again with AKSLOGIN_DEBUG=1 to print the traceback (check it for secrets before sharing).")
