# Two commands for a newcomer: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
DB     ?= data/profit.duckdb
PORT   ?= 8501
BENCH_USERS ?= 10000,100000

.PHONY: run test bench lint demo clean system-deps build-MessageFunction \
        build-PaymentWebhookFunction build-ClickFunction

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.testdeps: requirements.txt requirements-test.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime

$(DB): | $(VENV)/.runtime
	$(PY) -m loaders demo --db $(DB)

demo: $(VENV)/.runtime
	$(PY) -m loaders demo --db $(DB)

run: $(VENV)/.runtime $(DB)
	PROFIT_DB=$(DB) $(PY) -m streamlit run dashboard/server.py --server.address localhost --server.port $(PORT)

system-deps:
	bash .ci/system-deps

test: system-deps $(VENV)/.testdeps
	$(PY) -m ruff check .
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15

bench: $(VENV)/.testdeps
	$(PY) -m tests.bench --users $(BENCH_USERS)

lint: $(VENV)/.testdeps
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) data/bench tests/oidc/node_modules

# `sam build -t runtime/template.yaml --build-in-source` runs these (BuildMethod: makefile):
# a Lambda package is runtime/ and enforcement/ with runtime/requirements.txt, nothing else.
build-MessageFunction build-PaymentWebhookFunction build-ClickFunction:
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -r runtime enforcement "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
	$(PYTHON) -m pip install --quiet -r runtime/requirements.txt -t "$(ARTIFACTS_DIR)"
