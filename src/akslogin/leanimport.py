"""requests for a short-lived akslogin process: without a character-set detector nobody here uses.

requests imports charset_normalizer (or chardet) up front, only so that ``Response.text`` can guess the encoding
of a body whose headers name none. Every body akslogin reads is JSON (UTF-8 by RFC 8259) or has a declared type,
and requests falls back to UTF-8 when it has no detector. The detector is about a tenth of a sign-in's start-up
(some 15 ms) and 2.7 MiB of its peak memory, more than akslogin's own slow-path modules, so the command-line
process imports requests without it. Library users (``akslogin.api``) keep the requests they installed: this
runs only from the command's entry points, and only while nothing has imported requests yet.
"""

import sys
import warnings

#: What requests would load for ``Response.apparent_encoding``, and its warning when it finds neither.
DETECTORS = ("charset_normalizer", "chardet")
_NO_DETECTOR_WARNING = "Unable to find acceptable character detection dependency"


def import_requests(module: str = "requests") -> None:
    """Import ``module`` (requests) with the detectors unimportable, unless either is already loaded.

    If a requests release ever refuses to start without one, everything it left half-imported is dropped and it
    is imported again as usual: slower, never broken. The detectors stay importable afterwards for anyone who
    imports them by name."""
    if module in sys.modules or any(name in sys.modules for name in DETECTORS):
        return
    for name in DETECTORS:
        sys.modules[name] = None  # type: ignore[assignment]  # makes ``import name`` raise ImportError
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_NO_DETECTOR_WARNING)
            __import__(module)
    except ImportError:
        for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
            del sys.modules[name]
        _unblock()
        __import__(module)
    finally:
        _unblock()


def _unblock() -> None:
    for name in DETECTORS:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
