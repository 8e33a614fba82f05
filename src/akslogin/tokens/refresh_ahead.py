"""Refresh ahead: renew a cached token in a detached process shortly before kubectl would have to wait.

get-token serves a cached token while it has more than five minutes left (MIN_REMAINING); below that a call
signs in synchronously and kubectl waits for the identity provider. Inside the last ``LEAD`` seconds before
that margin, the hot path still prints the cached token at once and starts one detached ``get-token`` that
renews it, so the next calls find a fresh token and none of them waits:

    remaining > MIN_REMAINING + LEAD   cached token, nothing else
    remaining in that LEAD window      cached token + one background renewal (at most one per RETRY_SPACING)
    remaining < MIN_REMAINING          synchronous renewal, as before (a token that old is not handed out)

The window is short on purpose: a renewal started earlier would shorten every token's use and raise the
number of token requests a day; two minutes is enough for a renewal (the IdP answers in well under a second,
--timeout bounds a slow one) and costs one token request a day at most. The background process is single
flight through the identity lock, has stdin/stdout/stderr on the null device (kubectl never waits for it), and
on failure leaves the valid token in place; its error is kept for ``get-token -v 1`` to show. Only a start
marker (one ``open(O_EXCL)``) is added to the hot path, and only inside the window.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time

from akslogin.tokencache.entry import MIN_REMAINING, REFRESH_LEAD

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from akslogin.log import Log
    from akslogin.options import TokenOptions
    from akslogin.tokencache.entry import AccessToken

#: Seconds before get-token's 5-minute margin when the background renewal starts (kept beside MIN_REMAINING,
#: which the hot path reads).
LEAD = REFRESH_LEAD
#: A background renewal is started at most this often per identity (a failing IdP is not hammered; the
#: renewal itself also honours the back-off a failed refresh records).
RETRY_SPACING = 60.0

def marker_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "locks", key + ".refresh")


def error_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "locks", key + ".refresh-error")


def claim(cache_dir: str, key: str, now: float) -> bool:
    """True for the one call that should start the renewal: the marker did not exist, or the claim it records
    (the caller's clock, so an injected clock works too) is older than ``RETRY_SPACING``."""
    path = marker_path(cache_dir, key)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(2):
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            try:
                text = _read_marker(path)
                # Empty: claimed this instant and not written yet, or its writer was killed in between; the
                # file's own time says which (a marker nobody will ever write must not stop renewals for good).
                claimed = float(text) if text else os.lstat(path).st_mtime
            except (OSError, ValueError):
                claimed = 0.0  # damaged, or not a regular file of ours: treated as old below
            if 0 <= now - claimed < RETRY_SPACING:
                return False
            with contextlib.suppress(OSError):
                os.unlink(path)  # a renewal that failed or died long ago: try again
            continue
        except OSError:
            return False  # no locks directory yet, read-only cache, ...: the synchronous path will do it
        with os.fdopen(fd, "wb") as fh:
            fh.write(repr(now).encode())
        return True
    return False


def _read_marker(path: str) -> bytes:
    """The marker's few bytes, without following a link or waiting on a FIFO planted at its name (OSError)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return os.read(fd, 32)
    finally:
        os.close(fd)


def spawn_detached(argv: list[str], env: dict[str, str], stdin_data: bytes = b"") -> None:
    """Start ``argv`` detached (its own session; stdout and stderr on the null device) and hand it
    ``stdin_data`` on a pipe, which it reads before doing anything: nothing secret goes into its command
    line, which every user of the machine can read (``ps``)."""
    import subprocess

    common = {"env": env, "stdin": subprocess.PIPE, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
              "close_fds": True, "cwd": os.path.abspath(os.sep)}
    if sys.platform == "win32":
        proc = subprocess.Popen(argv, creationflags=subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS,
                                **common)  # type: ignore[call-overload]
    else:  # a session of its own: not killed with kubectl's process group
        proc = subprocess.Popen(argv, start_new_session=True, **common)  # type: ignore[call-overload]
    with contextlib.suppress(OSError):  # a few hundred bytes: the pipe's buffer takes them at once
        proc.stdin.write(stdin_data)
    with contextlib.suppress(OSError):
        proc.stdin.close()


#: The most the background process reads from its pipe (get-token's arguments are a few hundred bytes).
MAX_ARGS_BYTES = 64 * 1024


def start(argv: Sequence[str], environ: Mapping[str, str], cache_dir: str, key: str, now: float, log: Log,
          spawn: Callable[[list[str], dict[str, str], bytes], None] | None = None) -> bool:
    """Start one background renewal of ``key`` unless one was started recently; True when started. The
    process gets get-token's arguments on its stdin (they may hold --client-secret), not on its command line."""
    if not claim(cache_dir, key, now):
        return False
    env = dict(environ)
    from akslogin import jsonlite

    payload = ("[" + ",".join(jsonlite.quote(str(a)) for a in argv) + "]").encode("utf-8")
    try:
        (spawn or spawn_detached)([sys.executable, "-m", "akslogin.tokens.refresh_ahead"], env, payload)
    except OSError as exc:
        log(1, f"could not start the background token renewal ({exc.strerror}); the next calls renew it")
        return False
    log(1, "the cached token is close to its end: renewing it in the background")
    return True


def renew(opts: TokenOptions, key: str, cache_dir: str, environ: Mapping[str, str], clock: Callable[[], float],
          pop_key: object, before: AccessToken | None) -> int:
    """The background process: renew the token (single flight: if another process renewed it meanwhile,
    nothing is requested), and when it could not be renewed keep the reason for ``get-token -v``. Never
    raises: nobody reads this process's output."""
    import io

    from akslogin.errors import AksloginError
    from akslogin.log import Log
    from akslogin.tokens.acquire import acquire

    path = error_path(cache_dir, key)
    notes = io.StringIO()
    log = Log(1, notes)
    try:
        token = acquire(opts, key, cache_dir, environ, log, clock, notes,
                        min_remaining=MIN_REMAINING + LEAD + 1, pop_key=pop_key, attended=False)
    except AksloginError as exc:
        _keep(path, exc.message)
        return 1
    except Exception as exc:
        _keep(path, f"internal error ({type(exc).__name__})")
        return 1
    if before is not None and token.expires_on <= before.expires_on:
        # A failing identity provider: acquire kept the valid token and recorded a back-off.
        lines = [line.partition("] ")[2] if line.startswith("akslogin [") else line.removeprefix("akslogin: ")
                 for line in notes.getvalue().splitlines()]
        _keep(path, "; ".join(line for line in lines if line) or "the token was not renewed")
        return 1
    with contextlib.suppress(OSError):
        os.unlink(path)
    return 0


def _keep(path: str, message: str) -> None:
    from akslogin.errors import AksloginError
    from akslogin.tokencache.store import atomic_write

    with contextlib.suppress(OSError, AksloginError):
        atomic_write(path, f"{int(time.time())} {message[:500]}\n".encode("utf-8", "replace"))


def last_failure(cache_dir: str, key: str) -> str | None:
    """The reason the last background renewal failed, if it did (for -v)."""
    from akslogin.errors import CacheError
    from akslogin.tokencache.entry import read_private

    try:
        raw = read_private(error_path(cache_dir, key), limit=600)
    except CacheError:
        return None
    if not raw:
        return None
    text = raw.decode("utf-8", "replace").strip()
    stamp, _, message = text.partition(" ")
    when = time.strftime("%H:%M:%S", time.localtime(float(stamp))) if stamp.isdigit() else "earlier"
    return f"the background token renewal at {when} failed: {message}"


def main() -> int:
    """The background process's entrance (``python -m akslogin.tokens.refresh_ahead``): get-token's arguments
    come on stdin (bounded), and the renewal runs with the same options, key and cache get-token used."""
    from akslogin import jsonlite

    raw = sys.stdin.buffer.read(MAX_ARGS_BYTES + 1)
    try:
        argv = jsonlite.loads(raw) if len(raw) <= MAX_ARGS_BYTES else None
    except ValueError:
        argv = None
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return 2
    return run(argv, os.environ, time.time)


def run(argv: list[str], environ: Mapping[str, str], clock: Callable[[], float]) -> int:
    """One renewal for get-token's arguments ``argv`` (in process: what the background process does, with the
    environment and clock injected; the day simulation in bench/ runs it this way)."""
    from akslogin import options
    from akslogin.errors import AksloginError
    from akslogin.leanimport import import_requests

    import_requests()  # before MSAL imports it
    from akslogin.tokencache.entry import read_entry
    from akslogin.tokens import source

    try:
        opts = options.parse_args(argv)
        options.apply_env(opts, environ)
        options.validate(opts)
        cache_dir = source.cache_dir_for(opts, environ)
        pop_key = source.pop_key_for(opts, cache_dir, sys.stderr)
        key = source.key_for(opts, environ, pop_key.kid if pop_key is not None else "")
    except (AksloginError, options.HelpRequested):
        return 2
    return renew(opts, key, cache_dir, environ, clock, pop_key, read_entry(cache_dir, key))


if __name__ == "__main__":
    sys.exit(main())
