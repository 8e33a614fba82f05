"""Issue 25: on macOS and Windows akslogin trusts the operating system's certificate store (truststore), so a
corporate TLS-inspection CA installed only in the Keychain or the Windows store works without
--certificate-authority; the files given (--certificate-authority, REQUESTS_CA_BUNDLE) are trusted on top of it.
Here (Linux) that path is forced through tlstrust's platform seam: truststore then verifies with OpenSSL's store,
so what is shown is that the context is truststore's, that the extra files still count, and that refusals are
still refusals. The Keychain and the Windows store themselves are not exercised here.

Here: the emulated tier (akslogin against the emulator; no outside client).
"""

from __future__ import annotations

import ssl

import pytest
import requests
import truststore

from akslogin import tlstrust
from akslogin.emulator import Emulator
from akslogin.errors import TLSError
from akslogin.http import HttpClient


@pytest.fixture
def as_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tlstrust, "_platform", lambda: "darwin")


def _discovery(emu: Emulator) -> str:
    return emu.authority_host + "common/v2.0/.well-known/openid-configuration"


def test_the_os_store_path_uses_truststore_and_the_given_ca_on_top(as_macos: None, emulator: Emulator) -> None:
    http = HttpClient(20, [str(emulator.ca_path)], {})
    assert isinstance(http.trust.ctx, truststore.SSLContext)
    assert http.get(_discovery(emulator)).status_code == 200


def test_the_os_store_path_still_refuses_an_unknown_ca(as_macos: None, emulator: Emulator) -> None:
    http = HttpClient(20, [], {})
    with pytest.raises(TLSError) as info:
        http.get(_discovery(emulator))
    assert "not trusted" in info.value.message


def test_api_server_contexts_without_a_cluster_ca_use_the_os_store(as_macos: None) -> None:
    assert isinstance(tlstrust.system_context(), truststore.SSLContext)


def test_requests_itself_is_untouched(as_macos: None, emulator: Emulator) -> None:
    """truststore is used per context, never injected into ssl or requests for the whole process."""
    HttpClient(20, [str(emulator.ca_path)], {})
    assert ssl.SSLContext is not truststore.SSLContext
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(_discovery(emulator), timeout=10, verify=True)
