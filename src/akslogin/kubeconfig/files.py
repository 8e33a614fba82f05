"""Reading and writing kubeconfig files without ever losing or half-writing one.

Writes take an exclusive flock on a side file (released by the kernel if the process dies) and kubectl's own
``<file>.lock``, re-read the file under the lock, apply the change, and replace the file atomically (temp file
in the same directory, fsync, rename, fsync of the directory). The file keeps its mode and owner (a new one is
0600); backups are written the same way, and only the newest few are kept.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import gc
import os
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import yaml

from akslogin import fileops, yaml11
from akslogin.kubeconfig.model import KubeConfig, KubeconfigError, MissingKubeconfigError

LOCK_TIMEOUT = 30.0
T = TypeVar("T")


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while PyYAML builds or walks a document: the tree it makes has no
    cycles, and collections triggered by its hundreds of thousands of new objects make big files superlinear
    (5000 contexts: 2x the time of 1000 x 5)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse(text: str, source: str) -> KubeConfig:
    try:
        with _without_gc():
            data = yaml11.load(text) if text.strip() else {}
    except yaml11.DocumentTooLarge as exc:
        raise KubeconfigError(f"{source} cannot be read safely: {exc}.",
                              "kubectl refuses such a file too; fix it or point --kubeconfig/KUBECONFIG at "
                              "another one; nothing was changed.") from None
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


#: Largest kubeconfig read (10,000 AKS contexts with their CA data are about 40 MiB).
MAX_KUBECONFIG_BYTES = 256 << 20


def load(path: str, missing_ok: bool = True, *, clear_stale_lock: bool = True) -> KubeConfig:
    """Read a kubeconfig; a pipe (``KUBECONFIG=<(...)``) is read too, but never waited on for good. Reading
    also clears kubectl's lock file that a killed akslogin left beside it (see :func:`clear_dead_lock`)."""
    cleared = clear_stale_lock and clear_dead_lock(path)
    try:
        text = fileops.read_bounded(path, MAX_KUBECONFIG_BYTES).decode("utf-8")
    except FileNotFoundError:
        if missing_ok:
            return KubeConfig({}, path)
        raise MissingKubeconfigError(f"the kubeconfig {path} does not exist.") from None
    except UnicodeDecodeError:
        raise KubeconfigError(f"{path} is not a text file.") from None
    except OSError as exc:
        raise KubeconfigError(f"cannot read the kubeconfig {path}: {exc.strerror}.") from None
    config = parse(text, path)
    if cleared:
        config.notes.append(f"removed {os.path.abspath(path)}.lock, which an akslogin that was killed while writing "
                            "the file had left (kubectl would have failed with 'file exists')")
    return config


def lock_in_the_way(path: str, now: float) -> str | None:
    """A sentence about kubectl's ``<path>.lock`` when one exists and is older than a writer holds it."""
    lock = os.path.abspath(path) + ".lock"
    try:
        age = now - os.lstat(lock).st_mtime
    except OSError:
        return None
    if age <= STALE_KUBECTL_LOCK:
        return None
    return (f"kubectl's lock file {lock} has existed for {age / 60:.0f} minutes: a kubectl that was killed while "
            f"writing probably left it, and 'kubectl config' fails until it is gone; if no kubectl runs, "
            f"'rm {lock}'")


def dump(config: KubeConfig) -> str:
    """The file's text, as kubectl reads it back (see :mod:`akslogin.yaml11`)."""
    with _without_gc():
        return yaml11.dump(config.data)


def write_atomic(path: str, text: str, mode: int = 0o600, *, owner: tuple[int, int] | None = None,
                 held_lock: bool = False) -> None:
    fileops.make_dirs(os.path.dirname(os.path.abspath(path)))  # 0755, as kubectl makes them
    fileops.write_atomic(path, text.encode("utf-8"), mode, owner=owner, held_lock=held_lock)


def _side_lock(path: str) -> str:
    """akslogin's own flock file for ``path`` (held while kubectl's ``<path>.lock`` is ours)."""
    return os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.akslogin-lock")


def clear_dead_lock(path: str) -> bool:
    """Remove kubectl's ``<path>.lock`` when akslogin wrote it (it carries the mark) and no akslogin holds the
    file's own flock any more: its writer was killed (SIGKILL, power loss) and kubectl would otherwise fail
    with "config.lock: file exists" until someone removes it. A lock of kubectl's is never touched. True when
    one was removed."""
    lock = os.path.abspath(path) + ".lock"
    if not os.path.lexists(lock) or not _marked(lock):
        return False
    try:
        with fileops.exclusive_lock(_side_lock(path), 0, lambda: KubeconfigError("held")):
            if _marked(lock):  # still there, and now certainly nobody's
                os.unlink(lock)
                return True
    except (KubeconfigError, fileops.LockRefused, OSError):
        pass  # held by a live akslogin, or a directory we cannot write: leave it
    return False


@contextlib.contextmanager
def locked(path: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Exclusive lock for read-modify-write of ``path``: akslogin's own flock on a side file (the kernel frees
    it if we die), then kubectl's ``<path>.lock`` (client-go creates it with O_EXCL while it writes)."""
    directory = os.path.dirname(os.path.abspath(path))
    lock_path = _side_lock(path)
    with contextlib.ExitStack() as stack:
        try:
            fileops.make_dirs(directory)
            stack.enter_context(fileops.exclusive_lock(lock_path, timeout, lambda: KubeconfigError(
                f"another process kept {path} locked for {timeout:.0f}s.", "Retry when it has finished.")))
        except OSError as exc:
            raise KubeconfigError(f"cannot lock {path}: {exc.strerror}.") from None
        stack.enter_context(kubectl_lock(path, timeout))
        yield


#: What akslogin writes into kubectl's lock file, so a leftover of a killed akslogin is known as ours.
KUBECTL_LOCK_MARK = b"akslogin"
#: kubectl holds its lock for milliseconds; one older than this is left by a process that was killed.
STALE_KUBECTL_LOCK = 60.0


@contextlib.contextmanager
def kubectl_lock(path: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold kubectl's ``<path>.lock`` (O_EXCL create, as client-go does), waiting with backoff up to
    ``timeout`` while kubectl holds it. kubectl does not wait for it: while we hold it, a concurrent
    ``kubectl config`` fails with "file exists" instead of overwriting our change. Call with akslogin's
    own flock held: a lock file marked as ours is then a dead akslogin's and is taken over."""
    lock = os.path.abspath(path) + ".lock"
    deadline = time.monotonic() + timeout
    wait = 0.005
    while True:
        try:
            _create_marked(lock)
            break
        except FileExistsError:
            if _ours_and_dead(lock):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(lock)
                continue
            if time.monotonic() >= deadline:
                raise _stale_or_busy(lock, path, timeout) from None
            time.sleep(wait)
            wait = min(wait * 2, 0.2)
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                raise _no_space(path) from None
            raise KubeconfigError(f"cannot create kubectl's lock file {lock}: {exc.strerror}.",
                                  "Check that the kubeconfig's directory is writable.") from None
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)


def _create_marked(lock: str) -> None:
    """Create ``lock`` exclusively with our mark already in it (a kill can never leave it empty, which would
    look like kubectl's): write a private temp file, then hard-link it into place, which fails if it exists.
    Where hard links are not supported, an O_EXCL create and a write."""
    import tempfile

    mark = KUBECTL_LOCK_MARK + f" {os.getpid()}\n".encode()
    # Named like write_atomic's temp files, so the next write under the lock sweeps a killed one's away; created
    # with O_EXCL under an unpredictable name (mkstemp), so nothing planted at a guessable name is ever opened.
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(lock)[:-5]}.lock-", suffix=".tmp",
                               dir=os.path.dirname(lock))
    try:
        try:
            os.write(fd, mark)
        finally:
            os.close(fd)
        try:
            os.link(tmp, lock)
            return
        except FileExistsError:
            raise
        except OSError:
            pass  # no hard links here (some network and FAT file systems)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, mark)
    finally:
        os.close(fd)


def _ours_and_dead(lock: str) -> bool:
    """The lock carries akslogin's mark (the caller holds akslogin's own flock, so its writer is gone)."""
    return _marked(lock)


def _marked(lock: str) -> bool:
    try:
        return fileops.read_bounded(lock, 64, follow=False, timeout=0.1).startswith(KUBECTL_LOCK_MARK)
    except OSError:
        return False


def _stale_or_busy(lock: str, path: str, timeout: float) -> KubeconfigError:
    try:
        age = time.time() - os.stat(lock).st_mtime
    except OSError:
        age = 0.0
    if age > STALE_KUBECTL_LOCK:
        return KubeconfigError(
            f"kubectl's lock file {lock} has existed for {age / 60:.0f} minutes: a kubectl that was killed while "
            f"writing {path} probably left it, and kubectl itself fails until it is gone.",
            f"If no kubectl or akslogin is running, remove it ('rm {lock}') and retry; nothing was changed.")
    return KubeconfigError(f"kubectl kept {path} locked ({lock}) for {timeout:.0f}s.",
                           "Retry when the other kubectl command has finished; nothing was changed.")


#: Backups kept per kubeconfig by default (AKSLOGIN_KUBECONFIG_BACKUPS changes it; 0 keeps none).
DEFAULT_BACKUPS = 5


def backups_to_keep(environ: Mapping[str, str] | None = None) -> int:
    value = (os.environ if environ is None else environ).get("AKSLOGIN_KUBECONFIG_BACKUPS", "")
    return int(value) if value.strip().isdigit() else DEFAULT_BACKUPS


def new_backup_path(path: str) -> str:
    """``<path>.akslogin-backup-<timestamp>``, not yet taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = f"{path}.akslogin-backup-{stamp}"
    n = 1
    while os.path.exists(target):
        n += 1
        target = f"{path}.akslogin-backup-{stamp}-{n}"
    return target


def existing_backups(path: str) -> list[str]:
    """Timestamped backups of ``path``, oldest first: regular files only (a link or a directory that happens to
    carry the name is not ours and is left alone). A file's mtime moves in clock ticks, so backups written in
    one tick share it: then the name decides, its counter read as a number (``-10`` is newer than ``-9``)."""
    import glob

    prefix = path + ".akslogin-backup-"
    found: list[tuple[int, tuple[int, ...], str]] = []
    for candidate in glob.glob(glob.escape(prefix) + "*"):
        with contextlib.suppress(OSError):
            st = os.lstat(candidate)
            if stat.S_ISREG(st.st_mode) and not candidate.endswith(".tmp"):
                found.append((st.st_mtime_ns, _backup_sequence(candidate[len(prefix):]), candidate))
    return [p for _, _, p in sorted(found)]


def _backup_sequence(suffix: str) -> tuple[int, ...]:
    """``20261206-102021-10`` → (20261206, 102021, 10); a first backup has no counter (1); a name that is not
    ours sorts first among those of its tick."""
    parts = suffix.split("-")
    if not all(part.isdigit() for part in parts) or len(parts) not in (2, 3):
        return ()
    numbers = tuple(int(part) for part in parts)
    return numbers if len(numbers) == 3 else (*numbers, 1)


def backup(path: str, target: str | None = None, keep: int | None = None) -> str | None:
    """Copy the current file to ``target`` (default a new timestamped name) the way every file is written
    (temp, fsync, rename, 0600): a full disk leaves no truncated backup. Then only the newest ``keep``
    timestamped backups stay. None when there is nothing to back up."""
    made = _copy_aside(path, target)
    if made is not None:
        prune_backups(path, made, keep)
    return made


def _copy_aside(path: str, target: str | None) -> str | None:
    try:
        data = fileops.read_bounded(path, MAX_KUBECONFIG_BYTES)
    except FileNotFoundError:
        return None
    target = target or new_backup_path(path)
    fileops.write_atomic(target, data)
    return target


def prune_backups(path: str, newest: str, keep: int | None = None) -> None:
    """Keep only the newest ``keep`` (default: AKSLOGIN_KUBECONFIG_BACKUPS) timestamped backups of ``path``."""
    limit = backups_to_keep() if keep is None else keep
    for old in existing_backups(path)[:-limit or None] if limit > 0 else []:
        if old != newest:
            with contextlib.suppress(OSError):
                os.unlink(old)


def _writable(path: str) -> tuple[int, tuple[int, int] | None]:
    """(mode, owner) to keep for ``path`` as kubectl keeps them; refuses a file without a write bit."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return 0o600, None
    mode = stat.S_IMODE(st.st_mode)
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise KubeconfigError(
            f"{path} is read-only (mode {mode:04o}); akslogin does not replace a file you made read-only, as "
            "kubectl does not write to it.",
            f"Make it writable ('chmod u+w {path}') or write elsewhere with --file; nothing was changed.")
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    owner = (st.st_uid, st.st_gid) if euid == 0 and (st.st_uid, st.st_gid) != (0, 0) else None
    return mode, owner


def refuse_special(path: str) -> None:
    """KubeconfigError when ``path`` exists and is not a regular file (a device, FIFO, socket, directory)."""
    kind = fileops.special_kind(path)
    if kind is not None:
        raise KubeconfigError(f"{path} is not a regular file (it is {kind}); nothing was changed.",
                              "akslogin writes kubeconfigs only into regular files: pass a file path "
                              "(--file / --kubeconfig / KUBECONFIG).")


#: errno values of a full disk or an exhausted quota.
_DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})


def _no_space(path: str) -> KubeconfigError:
    return KubeconfigError(f"no space left on {os.path.dirname(path)}; nothing was changed.",
                           "Free some space (or write elsewhere with --file) and run the command again.")


def _write_failed(exc: OSError, path: str) -> KubeconfigError:
    if exc.errno in _DISK_FULL:
        return _no_space(path)
    return KubeconfigError(f"cannot write {path}: {exc.strerror or exc}; nothing was changed.",
                           "Check the file system (read-only? permissions?) or write elsewhere with --file.")


def _private_mode(mode: int, config: KubeConfig, path: str, notify: Callable[[str], object] | None) -> int:
    """A file that holds a credential is never left readable by others: its group and other bits go, once,
    with one line that says so (audit would flag it HIGH right after otherwise)."""
    if not mode & 0o077 or os.name == "nt" or not config.holds_secrets():
        return mode
    private = mode & 0o700
    message = (f"{path} holds credentials, so its mode changed from {mode:04o} to {private:04o} "
               "(only its owner can read it now).")
    (notify or _note)(message)
    return private


def _note(message: str) -> None:
    import sys

    sys.stderr.write(f"akslogin: note: {message}\n")


def update(path: str, change: Callable[[KubeConfig], T], *, keep_backup: bool = False,
           backup_path: str | None = None, skip_unchanged: bool = False,
           notify: Callable[[str], object] | None = None) -> T:
    """Lock (akslogin's lock and kubectl's), re-read, apply ``change``, write atomically. Nothing is written if
    ``change`` raises.

    A symlinked kubeconfig is updated where it points (the link stays, as with kubectl). The file keeps its
    mode and, when root rewrites someone's file (sudo -E), its owner; a new file is 0600. ``keep_backup``
    copies the previous version first (to ``backup_path`` if given, replacing it, else a new timestamped
    file, the newest few kept); ``skip_unchanged`` writes nothing (and keeps no backup) when ``change``
    changed nothing.
    """
    path = os.path.realpath(path)
    refuse_special(path)  # before the locks: /dev/null must not even get a lock file beside it
    with locked(path):
        refuse_special(path)
        config = load(path, clear_stale_lock=False)
        before = copy.deepcopy(config.data) if skip_unchanged else None
        result = change(config)
        config.validate()
        if skip_unchanged and config.data == before and os.path.exists(path):
            return result
        mode, owner = _writable(path)
        mode = _private_mode(mode, config, path, notify)
        text = dump(config)
        made = None
        replaced = backup_path is not None and os.path.lexists(backup_path)  # a rolling backup is kept
        try:
            if keep_backup:
                made = _copy_aside(path, backup_path)
            write_atomic(path, text, mode, owner=owner, held_lock=True)
        except OSError as exc:
            if made is not None and not replaced:
                with contextlib.suppress(OSError):
                    os.unlink(made)  # a failed try leaves no new backup behind
            raise _write_failed(exc, path) from None
        if made is not None:
            prune_backups(path, made)
        return result


def replace_backup(path: str, target: str) -> None:
    """Copy ``path`` over ``target`` atomically (0600): one rolling backup, e.g. for a cron job."""
    backup(path, target, keep=0)


def exec_block(user: dict[str, Any]) -> dict[str, Any] | None:
    block = user.get("exec")
    return block if isinstance(block, dict) else None
