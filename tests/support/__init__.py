"""Test helpers: the worlds the emulator serves in tests (:mod:`.worlds`) and running akslogin and kubectl
the way a user does (:mod:`.run`). Fixtures stay in tests/conftest.py."""
