"""kubectl's exec credential protocol: read KUBERNETES_EXEC_INFO, write one ExecCredential line.

Stdlib only and import-light: this runs on every kubectl command (see :mod:`akslogin.jsonlite`).
"""

import time

from akslogin import jsonlite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
SUPPORTED = (V1, V1BETA1)


class ExecInfo:
    """What kubectl told us: the API version to answer in, and whether stdin is a usable terminal."""

    __slots__ = ("api_version", "interactive")

    def __init__(self, api_version: str, interactive: bool) -> None:
        self.api_version = api_version
        self.interactive = interactive

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExecInfo):
            return NotImplemented
        return (self.api_version, self.interactive) == (other.api_version, other.interactive)

    def __hash__(self) -> int:
        return hash((self.api_version, self.interactive))

    def __repr__(self) -> str:
        return f"ExecInfo(api_version={self.api_version!r}, interactive={self.interactive!r})"


def read_exec_info(environ: "Mapping[str, str]") -> "ExecInfo":
    raw = environ.get("KUBERNETES_EXEC_INFO", "").strip()
    if not raw:
        return ExecInfo(V1BETA1, False)
    try:
        data = jsonlite.loads(raw)
    except ValueError:
        from akslogin.errors import UsageError  # errors.py only when there is one: never on a cache hit

        raise UsageError(
            "KUBERNETES_EXEC_INFO is not valid JSON.",
            "It is set by kubectl; unset it when running akslogin by hand.",
        ) from None
    if not isinstance(data, dict):
        from akslogin.errors import UsageError

        raise UsageError("KUBERNETES_EXEC_INFO must be a JSON object (an ExecCredential).")
    api_version = data.get("apiVersion") or V1BETA1
    if api_version not in SUPPORTED:
        from akslogin.errors import UsageError

        raise UsageError(
            f"exec credential API version {str(api_version)[:80]!r} is not supported.",
            f"Set the kubeconfig user's exec.apiVersion to {V1} or {V1BETA1}.",
        )
    spec = data.get("spec")
    interactive = bool(spec.get("interactive")) if isinstance(spec, dict) else False
    return ExecInfo(str(api_version), interactive)


def format_timestamp(epoch: float) -> str:
    """RFC 3339, UTC, second precision, as client-go's metav1.Time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))


def render(info: "ExecInfo", token: str, expires_on: float) -> str:
    """The single JSON line kubectl reads from stdout (what ``json.dumps`` with compact separators writes)."""
    q = jsonlite.quote
    return (
        '{"kind":"ExecCredential","apiVersion":' + q(info.api_version)
        + ',"spec":{"interactive":' + ("true" if info.interactive else "false")
        + '},"status":{"expirationTimestamp":' + q(format_timestamp(expires_on))
        + ',"token":' + q(token) + "}}"
    )
