"""Drop-in gaps for kubelogin users: remove-cache-dir, and kubelogin's global flags before the command.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations


def test_azurerm_env_vars_with_workload_identity_prefer_azure_client_id() -> None:
    from akslogin import options

    opts = options.parse_args(["--login", "workloadidentity", "--server-id", "x", "--use-azurerm-env-vars"])
    options.apply_env(opts, {"ARM_CLIENT_ID": "arm-id", "AZURE_CLIENT_ID": "webhook-id"})
    assert opts.client_id == "webhook-id"
    spn = options.parse_args(["--login", "spn", "--server-id", "x", "--use-azurerm-env-vars"])
    options.apply_env(spn, {"ARM_CLIENT_ID": "arm-id", "AZURE_CLIENT_ID": "other"})
    assert spn.client_id == "arm-id"
