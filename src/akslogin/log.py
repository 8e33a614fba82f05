"""Verbose diagnostics on stderr (kubectl shows a plugin's stderr). Callers pass facts, never secrets."""

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


class Log:
    def __init__(self, level: int = 0, stream: "TextIO | None" = None) -> None:
        self.level = level
        self.stream = stream if stream is not None else sys.stderr

    def __call__(self, level: int, message: str) -> None:
        if self.level >= level:
            stamp = time.strftime("%H:%M:%S")
            self.stream.write(f"akslogin [{stamp}] {message}\n")
            self.stream.flush()
