"""What the tiers of test_spn_chain_legacy.py share: tests/{e2e,emulated}/test_spn_chain_legacy.py."""

from __future__ import annotations

from pathlib import Path

from akslogin.emulator import Emulator
from support.machine_world import SNI_APP, TENANT, token_args


def _sni_args(emu: Emulator, pem: Path, cache: Path) -> list[str]:
    return token_args("spn", "--tenant-id", TENANT, "--client-id", SNI_APP, "--client-certificate", str(pem),
                      "--authority-host", emu.authority_host, "--certificate-authority", str(emu.ca_path),
                      "--cache-dir", str(cache))
