# One entry point for everything: `make run` and `make test` work on a fresh clone with only Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PROTO_SRC := $(wildcard proto/contactrouting/v1/*.proto)
PROTO_OUT := contactrouting/v1/.generated

.PHONY: setup proto run demo test test-services lint format bench chaos fuzz deploy-check clean

setup: $(VENV)/.installed $(PROTO_OUT)

# flock: several shells (and helpers) may run make at once; only one pip may touch the venv at a time.
$(VENV)/.installed: pyproject.toml
	flock .venv.lock sh -c 'test -x $(PY) || $(PYTHON) -m venv $(VENV); \
	  $(PY) -m pip install --quiet --upgrade pip && $(PY) -m pip install --quiet -e ".[dev]"'
	touch $@

proto: $(PROTO_OUT)

# Generated code is never edited by hand: it is rebuilt from proto/ whenever a contract changes.
$(PROTO_OUT): $(PROTO_SRC) $(VENV)/.installed
	flock .venv.lock sh -c 'rm -rf contactrouting/v1 && mkdir -p contactrouting/v1 && \
	  $(PY) -m grpc_tools.protoc -Iproto --python_out=. --pyi_out=. --grpc_python_out=. $(PROTO_SRC) && \
	  touch contactrouting/v1/__init__.py $@'

run: setup
	$(PY) -m devstack run

demo: setup
	$(PY) -m devstack demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy contactrouting services devstack chaos bench fuzz deploy
	cd proto && ../$(BIN)/buf lint && ../$(BIN)/buf format --diff --exit-code

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# pytest exits 5 when it collected no test; make treats every non-zero exit as failure.
test: setup lint test-services
	$(BIN)/pytest -q

# Tests that need Debian packages skip with a reason without them: PostgreSQL (skills on a real server) and tmux
# (the agent client driven in a terminal). As root (CI) we install them.
test-services:
	@if { [ ! -d /usr/lib/postgresql ] || ! command -v tmux >/dev/null; } && [ "$$(id -u)" = 0 ] \
	    && command -v apt-get >/dev/null; then \
	  echo "installing PostgreSQL and tmux for the tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    postgresql tmux >/dev/null; \
	fi

# QUICK=1 runs every benchmark at about a tenth of the size.
bench: setup
	$(PY) -m bench $(if $(QUICK),--quick)

# Renders every overlay and validates it offline (schemas, security posture, consistency with the services' settings);
# the same checks run inside `make test` through tests/deploy.
deploy-check: setup
	$(PY) -m deploy.validate

# Crash and fault scenarios on the real stack (QUICK=1: 600 contacts per scenario instead of 10,000).
chaos: setup
	$(PY) -m chaos $(if $(QUICK),--quick)

# Bad-input campaigns: 100,000 cases per target unless CASES=N; JOBS=N runs that many campaigns at once.
fuzz: setup
	$(PY) -m fuzz $(if $(CASES),--cases $(CASES)) $(if $(JOBS),--jobs $(JOBS))

clean:
	rm -rf $(VENV) contactrouting/v1 var .pytest_cache .mypy_cache .ruff_cache
