"""Which CA certificates a client trusts, parsed as late as possible: verification is never weakened.

Trust is additive: the system store, REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, each ``--certificate-authority``
file and the bundle requests picks (certifi). Parsing a CA bundle costs OpenSSL 3 about 30 ms for the ~150
certificates of a system store, which is more than the rest of a token request, so:

- a file is parsed once per client, by real path (CI images often name the system bundle in SSL_CERT_FILE,
  REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE at once);
- on Linux, when the system store is an OpenSSL hashed directory with its bundle generated beside it (Debian,
  Ubuntu, Alpine: update-ca-certificates writes both), the directory is trusted and OpenSSL reads only the
  certificates a handshake needs; the bundle itself and certifi's are *deferred*;
- a handshake that fails verification while something is deferred parses all of it and is tried once more
  (:meth:`Trust.widen`), so what is accepted is exactly what the eager load would accept.

On macOS and Windows the operating system's store decides (the ``truststore`` package, kept by the pip
maintainers): a corporate TLS-inspection CA installed only in the Keychain or the Windows certificate store is
trusted without ``--certificate-authority``, and the extra files above are trusted on top of it. Elsewhere (a
Linux store without hash links, SSL_CERT_FILE pointing elsewhere) the system store is loaded as
``ssl.create_default_context()`` loads it.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from collections.abc import Mapping, Sequence

from akslogin.errors import ConfigError


def file_id(path: str) -> str:
    """A file's identity for "parsed already": its real path (symlinks such as /usr/lib/ssl/cert.pem resolved)."""
    return os.path.realpath(path)


def _hashed_dir(path: str | None) -> bool:
    """Whether ``path`` is an OpenSSL certificate directory with subject-hash links (``9d6523ce.0``)."""
    if not path or not os.path.isdir(path):
        return False
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                name = entry.name
                if len(name) == 10 and name[8] == "." and name[9].isdigit() and \
                        all(c in "0123456789abcdef" for c in name[:8]):
                    return True
    except OSError:
        return False
    return False


#: Where the operating system's certificate store is reached through truststore instead of OpenSSL's files.
OS_STORE_PLATFORMS = ("darwin", "win32")


def os_store_context() -> ssl.SSLContext | None:
    """An SSLContext that verifies with the OS store (truststore), or None where truststore is not installed."""
    try:
        import truststore
    except ImportError:
        return None
    ctx: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return ctx


def _platform() -> str:
    """sys.platform, through one seam: tests force the macOS/Windows path (truststore) on Linux with it."""
    return sys.platform


def system_context() -> ssl.SSLContext:
    """A client context trusting the system's CAs: the OS store on macOS and Windows, OpenSSL's elsewhere."""
    if _platform() in OS_STORE_PLATFORMS:
        ctx = os_store_context()
        if ctx is not None:
            return ctx
    return ssl.create_default_context()


def _default_context(capath: str | None) -> ssl.SSLContext:
    """``ssl.create_default_context``'s settings; with ``capath``, trusting that directory instead of loading
    the default store (a seam for tests, which count what gets parsed)."""
    return ssl.create_default_context(capath=capath) if capath else ssl.create_default_context()


class Trust:
    """An SSLContext and the CA files behind it: those parsed into it and those trusted but not parsed yet."""

    def __init__(self, ctx: ssl.SSLContext, parsed: set[str], deferred: list[str], lazy: bool) -> None:
        self.ctx = ctx
        self._parsed = parsed
        self._deferred = deferred
        #: The system store is the hashed directory (bundles deferred), not a parsed file.
        self.lazy = lazy
        self._lock = threading.Lock()

    @classmethod
    def build(cls, extra_cas: Sequence[str], environ: Mapping[str, str]) -> Trust:
        os_store = os_store_context() if _platform() in OS_STORE_PLATFORMS else None
        if os_store is not None:  # the OS decides; the files below are trusted on top of it
            trust = cls(os_store, set(), [], lazy=False)
            trust._add_configured(extra_cas, environ)
            return trust
        paths = ssl.get_default_verify_paths()
        system_file = paths.cafile  # SSL_CERT_FILE or OpenSSL's default file; None when it does not exist
        beside = system_file is None or (paths.capath is not None and os.path.dirname(
            file_id(system_file)) == file_id(paths.capath))
        lazy = _platform().startswith("linux") and beside and _hashed_dir(paths.capath)
        parsed: set[str] = set()
        deferred: list[str] = []
        if lazy:
            ctx = _default_context(paths.capath)
            if system_file:
                deferred.append(file_id(system_file))
        else:
            ctx = _default_context(None)
            if system_file:
                parsed.add(file_id(system_file))
        trust = cls(ctx, parsed, deferred, lazy)
        trust._add_configured(extra_cas, environ)
        return trust

    def _add_configured(self, extra_cas: Sequence[str], environ: Mapping[str, str]) -> None:
        for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            bundle = environ.get(var)
            if bundle and os.path.isfile(bundle):
                self.add_file(bundle, what=var)
        for path in extra_cas:
            self.add_file(path, what="--certificate-authority")

    def add_file(self, path: str, *, what: str, defer: bool = False) -> None:
        """Trust the CA bundle ``path`` (parsed now unless ``defer`` and the store is lazy)."""
        file = file_id(path)
        with self._lock:
            if file in self._parsed or file in self._deferred:
                return
            if defer and self.lazy:
                self._deferred.append(file)
                return
            self._load(file, path, what)
            self._parsed.add(file)

    def add_dir(self, path: str) -> None:
        with self._lock:
            key = "dir:" + file_id(path)
            if key in self._parsed:
                return
            try:
                self.ctx.load_verify_locations(capath=path)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"cannot use the CA directory {path}: {exc}.") from None
            self._parsed.add(key)

    def widen(self) -> bool:
        """Parse everything deferred; True when that added something (the failed handshake is worth one more
        try), False when there was nothing left to add (the refusal stands)."""
        with self._lock:
            pending, self._deferred = self._deferred, []
            for file in pending:
                self._load(file, file, "the system CA bundle")
                self._parsed.add(file)
            return bool(pending)

    def _load(self, file: str, shown: str, what: str) -> None:
        try:
            self.ctx.load_verify_locations(cafile=file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"cannot load the CA bundle {shown} ({what}): {exc}.",
                "It must name a PEM file holding one or more CA certificates."
                + (" Pass another --certificate-authority." if what == "--certificate-authority"
                   else f" Check {what}." if what.isupper() else ""),
            ) from None


def verify_failed(exc: BaseException) -> bool:
    """Whether a requests/urllib3 TLS error is a certificate the trust store did not accept."""
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text.lower()
