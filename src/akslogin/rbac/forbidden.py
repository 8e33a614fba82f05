"""Reading kube-apiserver's Forbidden message back into who asked for what.

The text has a fixed shape (``<resource>[.<group>] ["<name>"] is forbidden: User "<u>" cannot <verb>
resource "<res>[/<sub>]" in API group "<g>" in the namespace "<ns>"`` or ``... at the cluster scope``, or
``forbidden: User "<u>" cannot <verb> path "<p>"``), optionally followed by ``: <authorizer reason>``.
kubectl prefixes it with ``Error from server (Forbidden):``; pasting the whole line works.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from akslogin.errors import UsageError
from akslogin.rbac.rules import ResourceRequest

_Q = r'"((?:[^"\\]|\\.)*)"'
_RESOURCE = re.compile(
    rf"User {_Q} cannot (\S+) resource {_Q} in API group {_Q}"
    rf"(?: in the namespace {_Q}| at the cluster scope)(?::\s*(.*))?$", re.DOTALL)
_PATH = re.compile(rf"User {_Q} cannot (\S+) path {_Q}(?::\s*(.*))?$", re.DOTALL)
_NAME = re.compile(rf"(\S+) {_Q} is forbidden:")
#: The reason AKS's Azure RBAC authorization webhook appends (decisions come from Azure role assignments).
AZURE_RBAC_MARKER = "does not have access to the resource in Azure"


@dataclass(frozen=True)
class ForbiddenMessage:
    username: str
    request: ResourceRequest
    reason: str

    @property
    def azure_rbac(self) -> bool:
        return AZURE_RBAC_MARKER in self.reason


def _unquote(text: str) -> str:
    try:
        value = json.loads(f'"{text}"')
    except ValueError:
        return text
    return str(value)


def parse_forbidden(text: str) -> ForbiddenMessage:
    """Parse a Forbidden message; a UsageError says what shape was expected."""
    text = " ".join(text.split())
    match = _RESOURCE.search(text)
    if match is not None:
        user, verb, combined, group, namespace, reason = match.groups()
        resource, _, sub = _unquote(combined).partition("/")
        name_match = _NAME.search(text[:match.start()])
        name = _unquote(name_match.group(2)) if name_match else ""
        request = ResourceRequest(verb=verb, resource=resource, subresource=sub, group=_unquote(group),
                                  namespace=_unquote(namespace or ""), name=name)
        return ForbiddenMessage(_unquote(user), request, (reason or "").strip())
    match = _PATH.search(text)
    if match is not None:
        user, verb, path, reason = match.groups()
        return ForbiddenMessage(_unquote(user), ResourceRequest(verb=verb, path=_unquote(path)),
                                (reason or "").strip())
    raise UsageError(
        "the --message text is not a Kubernetes Forbidden message.",
        'Paste the whole line kubectl printed, e.g. --message \'Error from server (Forbidden): pods is forbidden: '
        'User "alice@contoso.com" cannot list resource "pods" in API group "" in the namespace "dev"\'.',
    )
