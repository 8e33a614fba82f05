"""The exception hierarchy every command reports through.

Each error carries one paragraph for the user (what failed, why, what to do) and an exit code. Messages
are built from identifiers and codes only, never from secrets or tokens. Stdlib-only and import-light:
the get-token hot path imports it. What AADSTS codes mean lives in :mod:`akslogin.aadsts`. Callers catch by
cause; the classes near the leaves only add what one service says::

    AksloginError                      exit 1 unless noted
    ├── UsageError                     exit 2: bad flags, missing or contradictory values
    ├── ConfigError                    a file we were pointed at cannot be used
    │   └── (kubeconfig) KubeconfigError
    │       └── MissingKubeconfigError exit 2: no such file or context
    ├── CacheError                     the token cache is unsafe or unusable
    ├── NetworkError                   could not reach, or could not use the answer
    │   ├── TLSError                   certificate not trusted
    │   ├── DeadlineError              --timeout passed
    │   └── UnsafeResponseError        redirect of a sign-in request, body over the limit
    ├── AuthenticationError            the identity provider refused (AADSTS code kept)
    └── ServiceError                   a service answered with an error of its own
        ├── (arm) ArmError             Resource Manager (status, code)
        └── (kubeapi) KubeApiError     the API server's Status (ApiUnauthorized, ApiForbidden, ...)
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TextIO


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


class ServiceError(AksloginError):
    """A service (Resource Manager, an API server) answered the request with an error of its own."""


class AuthenticationError(AksloginError):
    """The identity provider refused to issue a token."""

    def __init__(self, message: str, hint: str | None = None, code: int | None = None) -> None:
        super().__init__(message, hint)
        self.code = code


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``timeout``, CI runners, systemd, ``docker stop``, a closed terminal), raised where the
    main thread is so that every lock and temporary file is released on the way out, as for Ctrl-C."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(name)
        self.signum = signum
        self.name = name


def stop_on_signals() -> None:
    """Make SIGTERM and SIGHUP unwind like SIGINT (commands that hold kubectl's lock must release it)."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signum, signal.Signals(signum).name)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):  # Windows has no SIGHUP
            signal.signal(getattr(signal, name), stop)


def internal_error(exc: BaseException) -> str:
    """The one line printed for a bug: the exception type only (its text could hold anything), and a way
    to get the traceback for a report."""
    return (f"akslogin: internal error ({type(exc).__name__}). This is a bug in akslogin; please report it. "
            "Run again with AKSLOGIN_DEBUG=1 to print the traceback (check it for secrets before sharing).")


def debug_enabled(environ: Mapping[str, str]) -> bool:
    """AKSLOGIN_DEBUG=1/true/yes prints tracebacks; 0, false, no or empty do not."""
    return environ.get("AKSLOGIN_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def guarded(action: Callable[[], int], stderr: TextIO, environ: Mapping[str, str],
            style: Callable[[str], str] | None = None) -> int:
    """Run a command: its errors become one paragraph and their exit code, a bug one line (exit 1).

    The one top-level handler of every command; ``style`` may mark the ``akslogin:`` prefix on a terminal.
    """
    try:
        return action()
    except (Exception, KeyboardInterrupt) as exc:
        return report(exc, stderr, environ, style)


def report(exc: BaseException, stderr: TextIO, environ: Mapping[str, str],
           style: Callable[[str], str] | None = None) -> int:
    """What :func:`guarded` does with an exception, for a caller that imports this module only once one was
    raised (get-token's cached path never imports it). Anything else than an Exception or an interrupt
    (SystemExit, GeneratorExit) is raised again, as is a bug under AKSLOGIN_DEBUG."""
    if isinstance(exc, AksloginError):
        from akslogin.output import printable  # only when an error is reported

        text = printable(exc.render())
        if style is not None and text.startswith("akslogin:"):
            text = style("akslogin:") + text[len("akslogin:"):]
        stderr.write(text + "\n")
        return exc.exit_code
    if isinstance(exc, Stopped):
        stderr.write(f"akslogin: stopped by {exc.name}; nothing was left half-written.\n")
        return 128 + exc.signum
    if isinstance(exc, KeyboardInterrupt):
        stderr.write("akslogin: interrupted.\n")
        return 130
    if not isinstance(exc, Exception) or debug_enabled(environ):
        raise exc
    stderr.write(internal_error(exc) + "\n")
    return 1
