# The two commands of the README. Both install whatever is missing first (idempotent, seconds
# when everything is present).
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: setup run test bench clean

setup:
	@scripts/setup.sh

run: setup
	$(VENV)/bin/madoguchi serve --host $(HOST) --port $(PORT)

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
