"""--login ropc end to end through real kubectl: managed accounts (password grant) and federated ones
(user realm → MEX → WS-Trust at the emulated ADFS → SAML 1.1/2.0 bearer grant), on an authority with a
port. MFA and Conditional Access refusals explain that this mode cannot satisfy them.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

from akslogin.credentials.msal_app import UserRealmPortFix
from akslogin.http import HttpClient


def test_user_realm_port_fix_only_touches_the_authority_host() -> None:
    fix = UserRealmPortFix(HttpClient(5), "https://127.0.0.1:8443/")
    assert fix.fix("https://127.0.0.1/common/userrealm/a@b.c?api-version=1.0") == (
        "https://127.0.0.1:8443/common/userrealm/a@b.c?api-version=1.0")
    assert fix.fix("https://127.0.0.1/t/oauth2/v2.0/token") == "https://127.0.0.1/t/oauth2/v2.0/token"
    assert fix.fix("https://idp.example/common/userrealm/x") == "https://idp.example/common/userrealm/x"
    plain = UserRealmPortFix(HttpClient(5), "https://login.microsoftonline.com/")
    url = "https://login.microsoftonline.com/common/userrealm/a@b.c"
    assert plain.fix(url) == url
