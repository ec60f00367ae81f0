# The README's whole set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-random mutation lint format bench clean

# (Re)build the venv when it is missing or pyproject.toml changed.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "hedgeframe needs Python >= 3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hedgeframe demo

# CI's run: fixed test order and the derandomized "ci" hypothesis profile.
test: $(STAMP)
	$(PY) -m pytest -q -p no:randomly

# Five rounds, each in a new random test order with new hypothesis seeds (docs/testing.md).
# Each round prints its seed; `pytest -p randomly --randomly-seed=S --hypothesis-seed=S`
# with that seed reruns it exactly.
RANDOM_ROUNDS ?= 5
test-random: $(STAMP)
	for round in $$(seq $(RANDOM_ROUNDS)); do \
		seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
		echo "random round $$round of $(RANDOM_ROUNDS): seed $$seed"; \
		HYPOTHESIS_PROFILE=random $(PY) -m pytest -q -p randomly \
			--randomly-seed=$$seed --hypothesis-seed=$$seed || exit 1; \
	done

# Mutation testing, module by module (slow: not in CI); `MODULES="engine metrics"` for some.
mutation: $(STAMP)
	$(PY) tests/mutation/run.py $(MODULES)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .mutation
