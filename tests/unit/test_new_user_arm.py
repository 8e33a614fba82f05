"""Issue 24.2-24.4 against the emulated Resource Manager: repeated subscriptions are one, a subscription can be
named as az names it, and a second login mode for the same cluster lands beside the first with --context.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest


def test_the_python_api_names_overwrite_not_cli_flags() -> None:
    from akslogin import api
    from akslogin.errors import ConfigError

    target = api.KubeConfig({"users": [{"name": "u", "user": {"token": "a"}}]})
    incoming = api.KubeConfig({"users": [{"name": "u", "user": {"token": "b"}}]})
    with pytest.raises(ConfigError) as info:
        api.merge_kubeconfig(target, incoming)
    text = info.value.render()
    assert "overwrite=True" in text and "--overwrite-existing" not in text and "--context" not in text
