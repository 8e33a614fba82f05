"""Refresh ahead: renew a cached token in a detached process before kubectl would have to wait.

get-token serves a cached token while it has more than five minutes left (MIN_REMAINING); below that a call
signs in synchronously and kubectl waits for the identity provider. The first call inside the token's renewal
window (the second half of its usable life, ``AccessToken.renew_window``) still prints the cached token at once
and starts one detached process that waits until ``LEAD`` seconds before that margin and then renews the token,
so the calls after it find a fresh token and none of them waits:

    remaining > MIN_REMAINING + window   cached token, nothing else
    remaining in the window              cached token; the first such call (per identity) schedules the renewal
    remaining < MIN_REMAINING            synchronous renewal (a token that old is not handed out)

Why wide and then wait: a renewal is scheduled only when a call lands in the window, and a person who pauses
5-30 minutes between bursts of kubectl calls steps over a narrow window (the two minutes of earlier versions
left 4-6 waits a day). Renewing at once in a wide window would shorten every token's use and cost several token
requests a day; waiting until shortly before the margin costs less than one (bench/day.py). The waiting process
imports nothing heavy, sleeps in short steps against the wall clock (a laptop that slept past the moment gives
up: nobody is waiting then, and the synchronous path takes over), is single flight through the start marker
and the identity lock, has stdin/stdout/stderr on the null device (kubectl never waits for it), and on failure
leaves the valid token in place; its error is kept for ``get-token -v 1`` to show. Only the marker (one
``open(O_EXCL)``, or one read while a renewal is scheduled) is added to the hot path, and only inside the window.
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

#: Seconds before get-token's 5-minute margin when the scheduled renewal runs (kept beside MIN_REMAINING,
#: which the hot path reads): time enough for a slow answer or one retry before any call would wait.
LEAD = REFRESH_LEAD
#: A background renewal is started at most this often per identity, counted from the moment it runs (a failing
#: IdP is not hammered; the renewal itself also honours the back-off a failed refresh records).
RETRY_SPACING = 60.0
#: A scheduled renewal that wakes this much after its moment (the machine slept) does nothing.
TOO_LATE = 600.0
#: The longest the waiting process sleeps at a time, so that a wall-clock jump (resume) is noticed.
SLEEP_STEP = 30.0
#: The longest a scheduled renewal waits (the window is at most an hour); a moment further off is not waited for.
MAX_WAIT = 2 * 3600.0
#: A marker that claims to hold longer than this is damaged (a renewal is scheduled at most a token's life
#: ahead, and tokens live at most 24 hours).
MAX_HOLD = 2 * 86400.0

def marker_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "locks", key + ".refresh")


def error_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "locks", key + ".refresh-error")


def due_time(token: AccessToken, now: float) -> float:
    """When a renewal scheduled now for ``token`` runs: LEAD seconds before the margin, or at once."""
    return max(now, token.expires_on - MIN_REMAINING - LEAD)


def claim(cache_dir: str, key: str, now: float, hold_until: float | None = None) -> bool:
    """True for the one call that should start the renewal: no marker, or the marker's hold has passed. The
    marker records until when it holds (``hold_until``, by default ``RETRY_SPACING`` from now; the caller's
    clock, so an injected clock works too)."""
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
                held = float(text) if text else os.lstat(path).st_mtime + RETRY_SPACING
            except (OSError, ValueError):
                held = 0.0  # damaged, or not a regular file of ours: treated as passed below
            if 0 <= held - now <= MAX_HOLD:
                return False
            with contextlib.suppress(OSError):
                os.unlink(path)  # a renewal that ran, failed or died: try again
            continue
        except OSError:
            return False  # no locks directory yet, read-only cache, ...: the synchronous path will do it
        with os.fdopen(fd, "wb") as fh:
            fh.write(repr(now + RETRY_SPACING if hold_until is None else hold_until).encode())
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


def start(argv: Sequence[str], environ: Mapping[str, str], cache_dir: str, key: str, token: AccessToken,
          now: float, log: Log, spawn: Callable[[list[str], dict[str, str], bytes], None] | None = None) -> bool:
    """Schedule one background renewal of ``key`` (whose cached token is ``token``) unless one is scheduled or
    ran recently; True when started. The process gets get-token's arguments on its stdin (they may hold
    --client-secret), not on its command line, and the moment to renew."""
    due = due_time(token, now)
    if not claim(cache_dir, key, now, hold_until=due + RETRY_SPACING):
        return False
    env = dict(environ)
    from akslogin import jsonlite

    args = ",".join(jsonlite.quote(str(a)) for a in argv)
    payload = f'{{"argv":[{args}],"due":{due!r}}}'.encode()
    try:
        (spawn or spawn_detached)([sys.executable, "-m", "akslogin.tokens.refresh_ahead"], env, payload)
    except OSError as exc:
        log(1, f"could not start the background token renewal ({exc.strerror}); the next calls renew it")
        return False
    when = "now" if due <= now else time.strftime("at %H:%M:%S", time.localtime(due))
    log(1, f"the cached token is in the second half of its life: renewing it in the background {when}")
    return True


def wait_until(due: float, clock: Callable[[], float] = time.time,
               sleep: Callable[[float], None] = time.sleep) -> bool:
    """Sleep until ``due`` by ``clock`` (wall clock: a monotonic sleep does not count a suspended machine's
    time), in steps of at most SLEEP_STEP. False when the moment passed by more than TOO_LATE, or lies more than
    MAX_WAIT ahead (no renewal is scheduled that far: every wait has a deadline)."""
    if due - clock() > MAX_WAIT:
        return False
    while True:
        left = due - clock()
        if left <= 0:
            return -left <= TOO_LATE
        sleep(min(left, SLEEP_STEP))


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
        # Asks for more than the token has left, so the request is made, unless another process renewed it
        # meanwhile (a new token has more than that: the window is half of a lifetime).
        window = before.renew_window() if before is not None else LEAD
        token = acquire(opts, key, cache_dir, environ, log, clock, notes,
                        min_remaining=MIN_REMAINING + window + 1, pop_key=pop_key, attended=False)
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
    """The background process's entrance (``python -m akslogin.tokens.refresh_ahead``): get-token's arguments and
    the moment to renew come on stdin (bounded); it waits for that moment, then renews with the same options,
    key and cache get-token used."""
    from akslogin import jsonlite

    raw = sys.stdin.buffer.read(MAX_ARGS_BYTES + 1)
    try:
        payload = jsonlite.loads(raw) if len(raw) <= MAX_ARGS_BYTES else None
    except ValueError:
        payload = None
    argv, due = parse_payload(payload)
    if argv is None:
        return 2
    if not wait_until(due):
        return 0  # the machine slept past the moment: nobody waits for this renewal now
    return run(argv, os.environ, time.time)


def parse_payload(payload: object) -> tuple[list[str] | None, float]:
    """get-token's arguments and the moment to renew; a bare list (what an earlier akslogin sent) means now."""
    import math

    if isinstance(payload, dict):
        argv, due = payload.get("argv"), payload.get("due", 0.0)
    else:
        argv, due = payload, 0.0
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        return None, 0.0
    if isinstance(due, bool) or not isinstance(due, (int, float)) or not math.isfinite(due):
        due = 0.0
    return argv, float(due)


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
