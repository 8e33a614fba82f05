"""``--login devicecode`` (kubelogin's default): sign in on another device with a code.

The prompt goes to stderr, which kubectl shows. The refresh token is kept (see :mod:`usercache`), so
later runs are silent until Entra stops accepting it. ``--legacy`` switches to the v1 endpoint and the
``spn:`` audience (see :mod:`v1_devicecode`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

from akslogin.aadsts import describe_idp_error
from akslogin.credentials import devicepoll
from akslogin.credentials.base import Credential, CredentialContext
from akslogin.credentials.msal_app import call
from akslogin.credentials.user import UserCredential
from akslogin.credentials.user import requirements as requirements  # a client app and a tenant, nothing more


class DeviceCodeCredential(UserCredential):
    mode = "devicecode"
    prompt_for = "a device code"

    def __init__(self, ctx: CredentialContext, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(ctx)
        self._sleep = sleep

    def sign_in(self, app: Any, scopes: list[str]) -> dict[str, Any]:
        flow = call(app.initiate_device_flow, scopes=scopes)
        if "user_code" not in flow:
            raise describe_idp_error(flow)
        fallback = f"To sign in, open {flow.get('verification_uri')} and enter the code {flow['user_code']}."
        self.ctx.tell(str(flow.get("message") or fallback))

        def step() -> dict[str, Any]:
            # One poll per call: MSAL's own loop would spin without sleeping on an interval below 1.
            flow["interval"] = max(1, int(flow.get("interval", 5)))
            with warnings.catch_warnings():  # MSAL's "Attempted too soon" must never reach kubectl's stderr
                warnings.simplefilter("ignore", UserWarning)
                result: dict[str, Any] = call(app.acquire_token_by_device_flow, flow, exit_condition=lambda _f: True)
            return result

        return devicepoll.poll(step, lambda: float(flow["interval"]), self.deadline, self.ctx.clock, self._sleep)


def create(ctx: CredentialContext) -> Credential:
    """The registry's factory: v2 device code, or the v1 client with --legacy."""
    if ctx.opts.legacy:
        from akslogin.credentials.v1_devicecode import LegacyDeviceCodeCredential

        return LegacyDeviceCodeCredential(ctx)
    return DeviceCodeCredential(ctx)
