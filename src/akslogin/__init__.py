"""akslogin: non-interactive Entra ID sign-in for AKS clusters, and a fast kubectl exec credential plugin.

The Python API (:mod:`akslogin.api`) is re-exported here lazily: ``import akslogin`` stays free of imports,
because every kubectl command runs ``akslogin get-token`` and pays for whatever this module loads.
"""

from akslogin._version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from akslogin.api import (
        AKS_SERVER_ID,
        AccessToken,
        KubeConfig,
        configure_kubernetes_client,
        convert_kubeconfig,
        get_exec_credential,
        get_token,
        load_kubeconfig,
        merge_kubeconfig,
        save_kubeconfig,
    )
    from akslogin.errors import AksloginError

_API = frozenset({
    "AKS_SERVER_ID", "AccessToken", "KubeConfig", "configure_kubernetes_client", "convert_kubeconfig",
    "get_exec_credential", "get_token", "load_kubeconfig", "merge_kubeconfig", "save_kubeconfig",
})

__all__ = [
    "AKS_SERVER_ID", "AccessToken", "AksloginError", "KubeConfig", "__version__", "configure_kubernetes_client",
    "convert_kubeconfig", "get_exec_credential", "get_token", "load_kubeconfig", "merge_kubeconfig",
    "save_kubeconfig",
]


def __getattr__(name: str) -> object:
    """Lazy re-exports (PEP 562): the API module is imported on first use, never by the hot path."""
    if name in _API:
        from akslogin import api

        return getattr(api, name)
    if name == "AksloginError":
        from akslogin.errors import AksloginError

        return AksloginError
    raise AttributeError(f"module 'akslogin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _API | {"AksloginError"})
