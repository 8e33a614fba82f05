"""Merging one kubeconfig into another the way ``az aks get-credentials`` and kubectl users expect."""

from __future__ import annotations

from dataclasses import dataclass, field

from akslogin.kubeconfig.model import SECTIONS, KubeConfig, KubeconfigError, MissingKubeconfigError, known_contexts


@dataclass
class MergeResult:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def merge(target: KubeConfig, incoming: KubeConfig, *, overwrite: bool = False,
          set_current: str | None = None) -> MergeResult:
    """Add ``incoming``'s entries to ``target``. A same-name entry is replaced only when identical or with
    ``overwrite``; otherwise nothing is changed and the error names the entry."""
    result = MergeResult()
    conflicts = []
    for section, body_key in SECTIONS.items():
        for item in incoming.data[section]:
            existing = target.get(section, item["name"])
            if existing is not None and existing != item.get(body_key, {}) and not overwrite:
                conflicts.append(f"{section[:-1]} {item['name']!r}")
    if set_current and set_current not in {*target.names("contexts"), *incoming.names("contexts")}:
        raise MissingKubeconfigError(f"cannot make {set_current!r} the current context: no context has that name.",
                                     known_contexts(incoming.names("contexts") or target.names("contexts")))
    if conflicts:
        shown = ", ".join(conflicts[:10]) + (f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else "")
        raise KubeconfigError(
            f"{target.source or 'the kubeconfig'} already has a different {shown}.",
            "Pass --overwrite-existing to replace it, or --context NAME to import under another name; "
            "nothing was changed.",
        )
    for section, body_key in SECTIONS.items():
        for item in incoming.data[section]:
            label = f"{section[:-1]}/{item['name']}"
            existing = target.get(section, item["name"])
            body = item.get(body_key, {})
            if existing is None:
                result.added.append(label)
            elif existing == body:
                result.unchanged.append(label)
            else:
                result.replaced.append(label)
            target.put(section, item["name"], body)
    if set_current:
        target.current_context = set_current
    return result


def rename_context(config: KubeConfig, old: str, new: str) -> None:
    if config.entry("contexts", old) is None:
        raise KubeconfigError(f"no context named {old!r} to rename.")
    if old != new and config.entry("contexts", new) is not None:
        raise KubeconfigError(f"a context named {new!r} already exists.")
    config.rename("contexts", old, new)
    if config.current_context == old:
        config.current_context = new
