"""Reading and writing kubeconfig files without ever losing or half-writing one.

Writes take an exclusive flock on a side file (released by the kernel if the process dies), re-read the
file under the lock, apply the change, and replace the file atomically (temp file in the same directory,
fsync, rename, fsync of the directory). The result is 0600. A backup of the previous version can be kept.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import yaml

from akslogin import fileops
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError, MissingKubeconfigError

LOCK_TIMEOUT = 30.0
#: PyYAML's safe loader and dumper, in libyaml's C version when PyYAML was built with it (the wheels are):
#: the same documents, about 10x faster, which matters when --all writes hundreds of clusters at once.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
T = TypeVar("T")


def parse(text: str, source: str) -> KubeConfig:
    try:
        data = yaml.load(text, Loader=_LOADER) if text.strip() else {}  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise KubeconfigError(
            f"{source} is not valid YAML{where}.",
            "Fix the file or point --kubeconfig/KUBECONFIG at another one; nothing was changed.",
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise KubeconfigError(f"{source} is not a kubeconfig (the top level must be a mapping).")
    return KubeConfig(data, source)


def load(path: str, missing_ok: bool = True) -> KubeConfig:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        if missing_ok:
            return KubeConfig({}, path)
        raise MissingKubeconfigError(f"the kubeconfig {path} does not exist.") from None
    except UnicodeDecodeError:
        raise KubeconfigError(f"{path} is not a text file.") from None
    except OSError as exc:
        raise KubeconfigError(f"cannot read the kubeconfig {path}: {exc.strerror}.") from None
    return parse(text, path)


def dump(config: KubeConfig) -> str:
    text: str = yaml.dump(config.data, Dumper=_DUMPER, default_flow_style=False, sort_keys=False, allow_unicode=True)
    if _DUMPER is not yaml.SafeDumper and "\\U" in text:
        # libyaml escapes characters beyond the BMP (emoji) even with allow_unicode; kubectl writes them as they
        # are, and so does PyYAML's own emitter. Rare enough that the slower emitter costs nothing.
        text = yaml.dump(config.data, Dumper=yaml.SafeDumper, default_flow_style=False, sort_keys=False,
                         allow_unicode=True)
    return text


def write_atomic(path: str, text: str, mode: int = 0o600) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fileops.write_atomic(path, text.encode("utf-8"), mode)


@contextlib.contextmanager
def locked(path: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Exclusive lock for read-modify-write of ``path`` across processes (a side file next to it)."""
    directory = os.path.dirname(os.path.abspath(path))
    lock_path = os.path.join(directory, f".{os.path.basename(path)}.akslogin-lock")
    with contextlib.ExitStack() as stack:
        try:
            os.makedirs(directory, exist_ok=True)
            stack.enter_context(fileops.exclusive_lock(lock_path, timeout, lambda: KubeconfigError(
                f"another process kept {path} locked for {timeout:.0f}s.", "Retry when it has finished.")))
        except OSError as exc:
            raise KubeconfigError(f"cannot lock {path}: {exc.strerror}.") from None
        yield


def new_backup_path(path: str) -> str:
    """``<path>.akslogin-backup-<timestamp>``, not yet taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = f"{path}.akslogin-backup-{stamp}"
    n = 1
    while os.path.exists(target):
        n += 1
        target = f"{path}.akslogin-backup-{stamp}-{n}"
    return target


def backup(path: str) -> str | None:
    """Copy the current file to ``<path>.akslogin-backup-<timestamp>`` (0600); None when there is none."""
    if not os.path.exists(path):
        return None
    target = new_backup_path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
    return target


def update(path: str, change: Callable[[KubeConfig], T], *, keep_backup: bool = False,
           backup_path: str | None = None, skip_unchanged: bool = False) -> T:
    """Lock, re-read, apply ``change``, write atomically. Nothing is written if ``change`` raises.

    A symlinked kubeconfig is updated where it points (the link stays, as with kubectl). ``keep_backup``
    copies the previous version first (to ``backup_path`` if given, replacing it, else a new timestamped
    file); ``skip_unchanged`` writes nothing (and keeps no backup) when ``change`` changed nothing.
    """
    path = os.path.realpath(path)
    with locked(path):
        config = load(path)
        before = copy.deepcopy(config.data) if skip_unchanged else None
        result = change(config)
        config.validate()
        if skip_unchanged and config.data == before and os.path.exists(path):
            return result
        if keep_backup:
            if backup_path is not None:
                replace_backup(path, backup_path)
            else:
                backup(path)
        write_atomic(path, dump(config))
        return result


def replace_backup(path: str, target: str) -> None:
    """Copy ``path`` over ``target`` atomically (0600): one rolling backup, e.g. for a cron job."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as src:
        write_atomic(target, src.read())


def exec_block(user: dict[str, Any]) -> dict[str, Any] | None:
    block = user.get("exec")
    return block if isinstance(block, dict) else None
