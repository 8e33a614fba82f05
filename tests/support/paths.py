"""Where things are, whichever tier folder a test lives in."""

from pathlib import Path

#: tests/
TESTS = Path(__file__).resolve().parents[1]
#: The checkout (pyproject.toml, docs/, bench/, demo/).
REPO = TESTS.parent
SUPPORT = TESTS / "support"
BENCH = REPO / "bench"
