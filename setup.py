"""Only what pyproject.toml cannot say: the `akslogin` command is a different file per platform family.

Linux and macOS get ``launcher/akslogin``, a script installed as written, so kubectl's hot path does not depend
on the wrapper a particular pip version generates (docs/performance.md, "The akslogin command"). Windows needs
an ``akslogin.exe``, which only a console-script entry point produces. A wheel therefore carries the launcher
of the platform family it was built on: build Windows wheels on Windows (a source install always does).
"""

import os

from setuptools import setup

CONSOLE = ["kubectl-akslogin = akslogin.cli:main"]  # `kubectl akslogin ...` (a kubectl plugin)

if os.name == "nt":
    setup(entry_points={"console_scripts": ["akslogin = akslogin.cli:main", *CONSOLE]})
else:
    setup(scripts=["launcher/akslogin"], entry_points={"console_scripts": CONSOLE})
