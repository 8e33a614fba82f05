"""A kubeconfig as a mapping that keeps everything: named lists of clusters, contexts and users."""

from __future__ import annotations

import copy
from typing import Any

from akslogin.errors import ConfigError

SECTIONS = {"clusters": "cluster", "contexts": "context", "users": "user"}


class KubeconfigError(ConfigError):
    """A kubeconfig file is malformed or does not hold what the command needs."""


class MissingKubeconfigError(KubeconfigError):
    """The kubeconfig file, or the context asked for, does not exist: bad input, exit 2 for every command."""

    exit_code = 2


def known_contexts(names: list[str], limit: int = 10) -> str:
    """The hint after "no such context": a few names, not a thousand ('kubectl config get-contexts' has all)."""
    if not names:
        return "There are no contexts; create one with 'akslogin get-credentials'."
    shown = ", ".join(names[:limit])
    if len(names) > limit:
        return f"Known contexts: {shown} and {len(names) - limit} more ('kubectl config get-contexts' lists them all)."
    return f"Known contexts: {shown}."


class KubeConfig:
    """A view over the parsed YAML; fields akslogin does not know are kept untouched."""

    def __init__(self, data: dict[str, Any] | None = None, source: str = "") -> None:
        self.data: dict[str, Any] = data if data is not None else {}
        self.source = source
        #: What reading the file noticed and fixed beside it (a dead akslogin's lock removed), for doctor.
        self.notes: list[str] = []
        self._index: dict[str, tuple[list[Any], int, dict[str, dict[str, Any]]]] = {}
        self.data.setdefault("apiVersion", "v1")
        self.data.setdefault("kind", "Config")
        for section in SECTIONS:
            if self.data.get(section) is None:
                self.data[section] = []
        self.validate()

    def validate(self) -> None:
        where = self.source or "kubeconfig"
        for section, body_key in SECTIONS.items():
            items = self.data[section]
            if not isinstance(items, list):
                raise KubeconfigError(f"{where}: '{section}' must be a list.")
            seen: set[str] = set()
            for i, item in enumerate(items):
                if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                    raise KubeconfigError(f"{where}: {section}[{i}] needs a non-empty 'name'.")
                if item.get(body_key) is not None and not isinstance(item[body_key], dict):
                    raise KubeconfigError(f"{where}: {section} entry {item['name']!r}: '{body_key}' must be a mapping.")
                if item["name"] in seen:
                    verb = {"clusters": "delete-cluster", "contexts": "delete-context", "users": "delete-user"}
                    raise KubeconfigError(
                        f"{where}: {section} has two entries named {item['name']!r} (the YAML itself is valid).",
                        f"Remove or rename one of them in the file (or run 'kubectl config {verb[section]} "
                        f"{item['name']}' and re-create the one you need); nothing was changed.")
                seen.add(item["name"])
        current = self.data.get("current-context")
        if current is not None and not isinstance(current, str):
            raise KubeconfigError(f"{where}: 'current-context' must be a string.")

    # -- named entries -------------------------------------------------------------------------
    # Lookups go through a name index per section so that converting or merging thousands of entries stays
    # linear. The index is rebuilt whenever the section's list is not the one it was built for (replaced or
    # resized by code that edits ``data`` directly) or a hit no longer carries the name it was filed under.
    def _indexed(self, section: str) -> dict[str, dict[str, Any]]:
        items = self.data[section]
        cached = self._index.get(section)
        if cached is None or cached[0] is not items or cached[1] != len(items):
            cached = (items, len(items), {item["name"]: item for item in items})
            self._index[section] = cached
        return cached[2]

    def names(self, section: str) -> list[str]:
        return [item["name"] for item in self.data[section]]

    def entry(self, section: str, name: str) -> dict[str, Any] | None:
        """The whole list item (``name`` plus body) of entry ``name``, or None."""
        found = self._indexed(section).get(name)
        if found is not None and found.get("name") != name:  # renamed behind the index's back
            self._index.pop(section, None)
            found = self._indexed(section).get(name)
        return found

    def get(self, section: str, name: str) -> dict[str, Any] | None:
        """The body (``cluster``/``context``/``user`` mapping) of entry ``name``, or None."""
        item = self.entry(section, name)
        if item is None:
            return None
        body = item.get(SECTIONS[section])
        if body is None:
            body = item[SECTIONS[section]] = {}
        return body

    def put(self, section: str, name: str, body: dict[str, Any]) -> None:
        """Insert or replace entry ``name`` in place (order of other entries kept)."""
        item = self.entry(section, name)
        if item is not None:
            item[SECTIONS[section]] = body
            return
        item = {"name": name, SECTIONS[section]: body}
        items = self.data[section]
        index = self._indexed(section)
        items.append(item)
        index[name] = item
        self._index[section] = (items, len(items), index)

    def rename(self, section: str, old: str, new: str) -> bool:
        """Give entry ``old`` the name ``new`` (the caller checks that ``new`` is free); False when absent."""
        item = self.entry(section, old)
        if item is None:
            return False
        item["name"] = new
        self._index.pop(section, None)
        return True

    def remove(self, section: str, name: str) -> bool:
        before = len(self.data[section])
        self.data[section] = [i for i in self.data[section] if i["name"] != name]
        return len(self.data[section]) != before

    # -- contexts ------------------------------------------------------------------------------
    @property
    def current_context(self) -> str:
        return str(self.data.get("current-context") or "")

    @current_context.setter
    def current_context(self, name: str) -> None:
        self.data["current-context"] = name

    def resolve_context(self, name: str | None = None) -> tuple[str, dict[str, Any]]:
        """(context name, context body) for ``name`` or the current context, with a clear error."""
        wanted = name or self.current_context
        if not wanted:
            raise KubeconfigError(
                f"{self.source or 'the kubeconfig'} has no current-context.",
                "Pass --context, or run 'kubectl config use-context NAME'.",
            )
        body = self.get("contexts", wanted)
        if body is None:
            raise MissingKubeconfigError(f"no context named {wanted!r} in {self.source or 'the kubeconfig'}.",
                                         known_contexts(self.names("contexts")))
        return wanted, body

    def holds_secrets(self) -> bool:
        """Whether a user entry holds a credential in the file itself (a token, a client key, a password, the
        legacy provider's tokens, a secret among exec arguments or variables): such a file must stay private."""
        from akslogin.redact import is_secret_name, secret_flags

        for item in self.data["users"]:
            user = item.get("user") or {}
            if not isinstance(user, dict):
                continue
            if any(user.get(k) for k in ("token", "client-key-data", "password")):
                return True
            provider = user.get("auth-provider")
            if isinstance(provider, dict) and isinstance(provider.get("config"), dict) and any(
                    provider["config"].get(k) for k in ("refresh-token", "access-token", "client-secret")):
                return True
            block = user.get("exec")
            if isinstance(block, dict) and (secret_flags([str(a) for a in block.get("args") or []]) or any(
                    isinstance(e, dict) and is_secret_name(str(e.get("name") or "")) and e.get("value")
                    for e in block.get("env") or [])):
                return True
        return False

    def copy(self) -> KubeConfig:
        return KubeConfig(copy.deepcopy(self.data), self.source)
