# The two commands the README promises: `make demo` and `make test`. Each builds .venv by itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-unit lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests demo bench
	$(BIN)/mypy
	$(BIN)/mypy --platform win32
	$(BIN)/mypy --platform darwin
	$(BIN)/mypy bench/*.py demo/*.py

# The hypothesis suites (10,000 cases each) spend their time generating input on one core, while the rest
# mostly waits on kubectl, subprocesses and sockets; side by side, a fresh-clone run took 12 minutes instead of 21.
# Both must pass; the fuzz process's report is printed after the main one.
test: lint
	@echo "$(BIN)/pytest -q tests/unit tests/emulated tests/e2e   (and, beside it, $(BIN)/pytest -q tests/fuzz)"
	@$(BIN)/pytest -q -p no:cacheprovider tests/fuzz > $(VENV)/fuzz-report.txt 2>&1 & fuzz=$$!; \
	trap 'kill $$fuzz 2>/dev/null' INT TERM; \
	$(BIN)/pytest -q tests/unit tests/emulated tests/e2e; rest=$$?; \
	wait $$fuzz; fz=$$?; \
	echo "--- hypothesis suites (tests/fuzz) ---"; cat $(VENV)/fuzz-report.txt; \
	test $$rest -eq 0 && test $$fz -eq 0

# Seconds, not minutes: the tests that use no emulator, process or socket (tests/unit/; conftest enforces it).
test-unit: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider tests/unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
