"""Loading the sign-in engine (requests, urllib3, MSAL) for a short-lived process, without what it never uses.

A sign-in spends most of its time importing. Three things cost it without doing anything for akslogin:

- **A character-set detector.** requests imports charset_normalizer (or chardet) up front, only so that
  ``Response.text`` can guess the encoding of a body whose headers name none. Every body akslogin reads is JSON
  (UTF-8 by RFC 8259) or has a declared type, and requests falls back to UTF-8 when it has no detector. The
  detector is some 15 ms and 2.7 MiB of a sign-in's peak memory, so the command imports requests without it.
- **importlib.metadata.** urllib3 imports its optional HTTP/2 support at start-up, and that module imports
  ``importlib.metadata`` (zipfile, csv, email parsing...) for one ``version("h2")`` call made only when HTTP/2 is
  switched on, which akslogin never does. While requests is imported, ``importlib.metadata`` is a stand-in whose
  ``version`` loads the real module when called; afterwards the stand-in is gone and any later import gets the
  real module.
- **The cyclic garbage collector** runs dozens of times while a few hundred modules are created, and finds
  nothing to free: it is paused for the imports (``gc_paused``).

Library users (``akslogin.api``) keep the requests they installed: this runs only from the command's entry points,
and only while nothing has imported requests yet. If a requests release ever refuses to start this way,
everything it left half-imported is dropped and it is imported again as usual: slower, never broken.
"""

import sys
import warnings

#: What requests would load for ``Response.apparent_encoding``, and its warning when it finds neither.
DETECTORS = ("charset_normalizer", "chardet")
_NO_DETECTOR_WARNING = "Unable to find acceptable character detection dependency"
_METADATA = "importlib.metadata"


class gc_paused:
    """No cyclic garbage collection inside (imports create objects, not garbage); restored on the way out."""

    def __enter__(self) -> None:
        import gc

        self._was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        import gc

        if self._was:
            gc.enable()


def import_module(name: str) -> object:
    """``importlib.import_module`` with the collector paused (a login mode's module brings MSAL with it)."""
    import importlib

    with gc_paused():
        return importlib.import_module(name)


def _real_metadata() -> object:
    """The real importlib.metadata (the stand-in, if still in place, steps aside for good)."""
    import importlib

    if getattr(sys.modules.get(_METADATA), "__akslogin_stand_in__", False):
        del sys.modules[_METADATA]
    return importlib.import_module(_METADATA)


def _version(distribution_name: str) -> str:
    """importlib.metadata.version, loaded when first called."""
    return str(_real_metadata().version(distribution_name))  # type: ignore[attr-defined]


def _any_other(name: str) -> object:
    """Anything else asked of the stand-in (a release of urllib3 or requests that uses more of it): the real one.
    Dunder names are the import system's questions (``__path__``: is it a package?), answered as a plain module."""
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return getattr(_real_metadata(), name)


def import_requests(module: str = "requests") -> None:
    """Import ``module`` (requests) with the detectors unimportable and importlib.metadata deferred, unless
    requests or either detector is already loaded.

    The detectors stay importable afterwards for anyone who imports them by name."""
    if module in sys.modules or any(name in sys.modules for name in DETECTORS):
        return
    for name in DETECTORS:
        sys.modules[name] = None  # type: ignore[assignment]  # makes ``import name`` raise ImportError
    stand_in = None
    if _METADATA not in sys.modules:
        import types

        stand_in = types.ModuleType(_METADATA, "stand-in until first used (akslogin.leanimport)")
        stand_in.version = _version  # type: ignore[attr-defined]
        stand_in.__getattr__ = _any_other  # type: ignore[method-assign]  # PEP 562: what it lacks comes from the real one
        stand_in.__akslogin_stand_in__ = True  # type: ignore[attr-defined]
        sys.modules[_METADATA] = stand_in
    try:
        with gc_paused(), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_NO_DETECTOR_WARNING)
            __import__(module)
    except ImportError:
        for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
            del sys.modules[name]
        _unblock(stand_in)
        __import__(module)
    finally:
        _unblock(stand_in)


def _unblock(stand_in: object) -> None:
    for name in DETECTORS:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
    if stand_in is not None and sys.modules.get(_METADATA) is stand_in:
        del sys.modules[_METADATA]
