"""What a feature module (ADFS, ARM, Graph, managed identity, ...) may use of the emulator it is installed in.

Features are installed by :class:`akslogin.emulator.server.Emulator` and get the emulator itself; typing them
against this protocol instead of the class keeps the dependencies one way (server → features), so a feature
can be read, and tested, without the whole server.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from akslogin.emulator.aks.clusterca import ClusterCA
    from akslogin.emulator.azure.arm import ArmService
    from akslogin.emulator.clock import Clock
    from akslogin.emulator.entra.directory import Directory
    from akslogin.emulator.entra.endpoints import EntraService
    from akslogin.emulator.entra.tokens import TokenIssuer
    from akslogin.emulator.net.httpbase import Router
    from akslogin.emulator.world import World

_S = TypeVar("_S")


class EmulatorHost(Protocol):
    world: World
    state_dir: Path
    clock: Clock
    issuer: TokenIssuer
    entra: EntraService
    directory: Directory
    cluster_cas: dict[str, ClusterCA]
    services: dict[str, Any]
    arm: ArmService

    def add_server(self, service: str, router: Router, port: int = 0, tls: bool = True) -> None: ...

    def service(self, key: str, kind: type[_S]) -> _S: ...

    def server_url(self, service: str) -> str: ...

    def cluster_url(self, name: str) -> str: ...

    @property
    def authority_host(self) -> str: ...

    @property
    def ca_path(self) -> Path: ...
