"""The developer-CLI sign-in a cached azurecli/azd token belongs to, as part of the identity key.

kubelogin stopped caching az tokens because a cached token outlived ``az logout`` (kubelogin #137), and every
kubectl call then paid for a full ``az`` start (#358). akslogin caches them, but keys the entry on the CLI's
config directory and on a stamp (inode, size, mtime) of the file the CLI rewrites whenever the signed-in
account changes: az's ``azureProfile.json`` (login, logout, account set/clear) and azd's ``config.json``
(auth login/logout). Any such change makes the cached token unreachable at once, and the next call asks the
CLI again. Stdlib only: this runs on the hot path (one stat).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: login mode → (config directory variable, default directory under $HOME, file that marks the sign-in)
TOOLS = {
    "azurecli": ("AZURE_CONFIG_DIR", ".azure", "azureProfile.json"),
    "azd": ("AZD_CONFIG_DIR", ".azd", "config.json"),
}


def tool_state(login: str, environ: Mapping[str, str]) -> dict[str, str]:
    """Identity-key fields for ``login`` (empty for modes that do not reuse a CLI's sign-in)."""
    spec = TOOLS.get(login)
    if spec is None:
        return {}
    variable, default, marker = spec
    home = environ.get("HOME") or os.path.expanduser("~")
    directory = os.path.abspath(os.path.expanduser(environ.get(variable) or os.path.join(home, default)))
    try:
        st = os.stat(os.path.join(directory, marker))
        stamp = f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = "absent"
    return {"tool_config": directory, "tool_state": stamp}
