"""An offline emulator of Entra ID and AKS API servers on 127.0.0.1, for tests and the demo.

The product never imports this package; tests, the demo and ``akslogin emulator`` do.
"""

from akslogin.emulator.server import Emulator

__all__ = ["Emulator"]
