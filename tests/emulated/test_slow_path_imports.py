"""A get-token that signs in imports only what its login mode uses (issue 16, item 3).

Each case is the real command against the emulator under ``python -X importtime``: the token request
succeeds, and the process did not load requests' character-set detector (akslogin never lets requests guess a
body's encoding, see :mod:`akslogin.leanimport`) nor, for logins that use no certificate, key or encrypted
cache, cryptography's native module, nor dataclasses.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from support.paths import BENCH

sys.path.insert(0, str(BENCH))
from harness import REQUEST_SCENARIOS, Scenario, exec_credential_token, script_interpreter, world

#: What loads when the detector really is imported; ``-X importtime`` also lists a refused attempt
#: (``import charset_normalizer`` raising ImportError), so the top-level names alone prove nothing.
DETECTOR_MODULES = ("charset_normalizer.api", "charset_normalizer.md", "chardet.universaldetector")
CRYPTOGRAPHY_NATIVE = "cryptography.hazmat.bindings._rust"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world(), tmp_path_factory.mktemp("imports-emulator")) as emulator:
        yield emulator


def _loaded(argv: list[str], env: dict[str, str]) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    result = subprocess.run([script_interpreter(argv[0]), "-X", "importtime", *argv], env=env, capture_output=True,
                            text=True, timeout=120, stdin=subprocess.DEVNULL)
    names = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
             if line.startswith("import time:") and "self [us]" not in line}
    return names, result


@pytest.mark.parametrize("scenario", REQUEST_SCENARIOS, ids=[s.name for s in REQUEST_SCENARIOS])
def test_a_sign_in_loads_no_charset_detector(scenario: Scenario, tmp_path: Path, emu: Emulator) -> None:
    call = scenario.prepare(emu, tmp_path)
    names, result = _loaded(call.argv, call.env)
    assert result.returncode == 0, result.stderr
    assert exec_credential_token(result.stdout)
    assert {"msal", "requests", "requests.models"} <= names  # the engine did load: the check below means something
    assert sorted(m for m in DETECTOR_MODULES if m in names) == []
    assert "importlib.metadata._adapters" not in names  # issue 29.2: urllib3's HTTP/2 probe no longer loads it
    # issue 29.2: the engine never imports dataclasses (MSAL does import inspect), so the sign-in path's
    # records are NamedTuples and plain classes
    assert "dataclasses" not in names
    if not scenario.user_cache:  # saved sign-ins are encrypted at rest with cryptography's AES-GCM
        assert CRYPTOGRAPHY_NATIVE not in names


def test_importlib_metadata_is_whole_afterwards() -> None:
    """The stand-in only defers the import: urllib3's bound ``version`` and any later ``import importlib.metadata``
    reach the real module (issue 29.2)."""
    code = ("import sys; from akslogin.leanimport import import_requests; import_requests(); "
            "assert 'importlib.metadata' not in sys.modules, 'loaded during the import'; "
            "import urllib3.http2 as h2; print(h2.version('urllib3')); "
            "import importlib.metadata as md; print(md.version('urllib3'), callable(md.entry_points))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    import urllib3

    assert result.stdout.split() == [urllib3.__version__, urllib3.__version__, "True"]


def test_the_detector_is_still_importable_afterwards() -> None:
    """Only requests' own import is spared the detector: later code that asks for it by name gets it."""
    code = ("import sys; from akslogin.leanimport import import_requests; import_requests(); "
            "import requests.compat; assert requests.compat.chardet is None; "
            "import charset_normalizer; print(charset_normalizer.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "charset_normalizer"
    assert "character detection" not in result.stderr  # requests' warning about the missing detector is silenced


def test_a_requests_that_needs_the_detector_is_imported_as_usual(tmp_path: Path) -> None:
    """The fallback: a package that refuses to import without charset_normalizer is imported again with it."""
    pkg = tmp_path / "needsdetector"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("import charset_normalizer\nDETECTOR = charset_normalizer.__name__\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from akslogin.leanimport import import_requests; "
            "import_requests('needsdetector'); import needsdetector; print(needsdetector.DETECTOR)")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "charset_normalizer"


def test_requests_already_imported_is_left_alone() -> None:
    code = ("import requests, requests.compat; before = requests.compat.chardet; "
            "from akslogin.leanimport import import_requests; import_requests(); "
            "assert requests.compat.chardet is before is not None")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_a_sign_in_ends_without_teardown_and_loses_nothing(tmp_path: Path, emu: Emulator) -> None:
    """Issue 29.2: after a sign-in, get-token leaves with os._exit (no teardown of a few hundred modules): its
    output still arrives whole and flushed, the token is cached, and a failure's exit code comes through."""
    scenario = next(s for s in REQUEST_SCENARIOS if s.name.startswith("spn"))
    call = scenario.prepare(emu, tmp_path)
    verbose = subprocess.run([*call.argv, "-v", "3"], env=call.env, capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL)
    assert verbose.returncode == 0, verbose.stderr
    assert exec_credential_token(verbose.stdout) and verbose.stdout.endswith("}\n")
    assert "token cached" in verbose.stderr  # the last lines of a long stderr were flushed too
    bad = subprocess.run([*call.argv, "--client-id", "00000000-0000-4000-8000-00000000dead",
                          "--cache-dir", str(tmp_path / "other-cache")], env=call.env, capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert bad.returncode == 1 and bad.stdout == ""
    assert "AADSTS700016" in bad.stderr and bad.stderr.endswith("\n")
