"""Several kubeconfig files seen as one, as kubectl merges ``KUBECONFIG``: the first file naming an entry wins.

Each entry remembers the file it came from, because relative paths inside it (certificate files, an exec
command like ``./bin/plugin``) resolve against that file's directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from akslogin.kubeconfig import files, paths
from akslogin.kubeconfig.model import KubeConfig, MissingKubeconfigError


@dataclass(frozen=True)
class Entry:
    name: str
    body: dict[str, Any]
    source: str


@dataclass
class MergedKubeconfig:
    configs: list[KubeConfig]
    #: Files that were looked for but do not exist (kubectl ignores missing KUBECONFIG entries).
    missing: list[str] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return [c.source for c in self.configs]

    @property
    def current_context(self) -> str:
        return next((c.current_context for c in self.configs if c.current_context), "")

    def entry(self, section: str, name: str) -> Entry | None:
        for config in self.configs:
            body = config.get(section, name)
            if body is not None:
                return Entry(name, body, config.source)
        return None

    def names(self, section: str) -> list[str]:
        return list(dict.fromkeys(n for c in self.configs for n in c.names(section)))

    def describe_sources(self) -> str:
        if self.configs:
            return ", ".join(self.sources)
        return ", ".join(self.missing) or "no file"


def load_merged(explicit: str | None, environ: Mapping[str, str]) -> MergedKubeconfig:
    """What kubectl would read: ``--kubeconfig`` (must exist), else the ``KUBECONFIG`` entries, else the default."""
    return load_files(paths.read_paths(explicit, environ), must_exist=bool(explicit))


def load_files(file_paths: Sequence[str], must_exist: bool = False) -> MergedKubeconfig:
    merged = MergedKubeconfig([])
    for path in file_paths:
        if not os.path.exists(path):
            if must_exist:
                raise MissingKubeconfigError(f"the kubeconfig {path} does not exist.",
                                      "Check --kubeconfig, or create it with 'akslogin get-credentials'.")
            merged.missing.append(path)
            continue
        merged.configs.append(files.load(path, missing_ok=False))
    return merged


def resolve_path(path: str, source: str) -> str:
    """A path from a kubeconfig entry: ``~`` expanded, relative paths taken from the file's directory."""
    path = os.path.expanduser(path)
    if os.path.isabs(path) or not source:
        return path
    return os.path.join(os.path.dirname(os.path.abspath(source)), path)
