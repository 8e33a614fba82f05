"""Merging one kubeconfig into another the way ``az aks get-credentials`` and kubectl users expect."""

from __future__ import annotations

from dataclasses import dataclass, field

from akslogin.kubeconfig.model import SECTIONS, KubeConfig, KubeconfigError, MissingKubeconfigError, known_contexts


@dataclass
class MergeResult:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


#: What the commands that merge (get-credentials) say to do about a conflict; the Python API says its own.
CLI_CONFLICT_HINT = ("Pass --context NAME to import it beside the existing entries (the context, its cluster and, "
                     "when it differs, its user entry get that name), or --overwrite-existing to replace them; "
                     "nothing was changed.")


class MergeConflict(KubeconfigError):
    """Same-name entries that differ: ``entries`` lists them as (section, name), e.g. ("users", "clusterUser_rg_x");
    the message names them, the hint (the caller's words) says what to do."""

    def __init__(self, message: str, hint: str | None, entries: list[tuple[str, str]]) -> None:
        super().__init__(message, hint)
        self.entries = entries


def conflicts(target: KubeConfig, incoming: KubeConfig) -> list[tuple[str, str]]:
    """(section, name) of every entry of ``incoming`` that ``target`` has with a different body."""
    found = []
    for section, body_key in SECTIONS.items():
        for item in incoming.data[section]:
            existing = target.get(section, item["name"])
            if existing is not None and existing != item.get(body_key, {}):
                found.append((section, str(item["name"])))
    return found


def merge(target: KubeConfig, incoming: KubeConfig, *, overwrite: bool = False,
          set_current: str | None = None, hint: str = CLI_CONFLICT_HINT) -> MergeResult:
    """Add ``incoming``'s entries to ``target``. A same-name entry is replaced only when identical or with
    ``overwrite``; otherwise nothing is changed and MergeConflict names the entries (``hint`` is what the
    caller's user can do about it)."""
    result = MergeResult()
    clashes = [] if overwrite else conflicts(target, incoming)
    if set_current and set_current not in {*target.names("contexts"), *incoming.names("contexts")}:
        raise MissingKubeconfigError(f"cannot make {set_current!r} the current context: no context has that name.",
                                     known_contexts(incoming.names("contexts") or target.names("contexts")))
    if clashes:
        labels = [f"{section[:-1]} {name!r}" for section, name in clashes]
        shown = ", ".join(labels[:10]) + (f" and {len(labels) - 10} more" if len(labels) > 10 else "")
        raise MergeConflict(f"{target.source or 'the kubeconfig'} already has a different {shown}.", hint, clashes)
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
