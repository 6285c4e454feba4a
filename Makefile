# GNU make. Needs only python3 (with venv) and make on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# JUnit XML of the test runs, read by scripts/skipped.py.
REPORTS := .reports
HOST ?= 127.0.0.1
PORT ?= 8000
# Command run in the background by `make demo` beside the web server: the
# worker of background receivers. DEMO_WORKER= (empty) means no worker.
DEMO_WORKER ?= python manage.py db_worker
# OTEL=1: run the site under opentelemetry-instrument, printing every trace
# (requests, signal sends, receivers) on the console.
OTEL ?=
OTEL_SERVER = DJANGO_SETTINGS_MODULE=example.settings \
	OTEL_SERVICE_NAME=signalkit-example \
	OTEL_PYTHON_SIGNALKIT_EXCLUDED_SIGNALS='django.core.signals.request_*,django.test.signals.*' \
	opentelemetry-instrument --traces_exporter console --metrics_exporter none \
	--logs_exporter none python manage.py runserver --noreload $(HOST):$(PORT)

.DEFAULT_GOAL := help
.PHONY: help install test lint typecheck pytest test-example demo demo-setup docs docs-samples dist clean

help:
	@echo "make demo   install, migrate, load sample data, run http://$(HOST):$(PORT)/"
	@echo "            (OTEL=1: print OpenTelemetry spans of signals on the console)"
	@echo "make test   lint, type-check, run the tests (coverage gate) and the example's"
	@echo "make docs   build the HTML docs into docs/_build/html (warnings are errors)"
	@echo "make docs-samples  rewrite the sample outputs in docs/*.rst from the code"
	@echo "make dist   build the sdist and the wheel into dist/"
	@echo "make clean  remove build artefacts and caches (keeps $(VENV))"

$(VENV):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# With redis-server on the machine, the RQ and Celery stack of the worker
# tests too (tests/test_tasks_redis.py); without it those tests skip.
install: | $(VENV)
	$(PIP) install --quiet -e . -r requirements/test.txt
	@if command -v redis-server >/dev/null 2>&1; then \
		echo "redis-server found: installing requirements/redis.txt for the worker tests"; \
		$(PIP) install --quiet -r requirements/redis.txt; \
	else \
		echo "redis-server not found: the RQ and Celery worker tests will skip"; \
	fi

# Ends with what the two suites skipped and why (scripts/skipped.py).
test: install
	$(MAKE) --no-print-directory lint typecheck pytest test-example
	@$(BIN)/python scripts/skipped.py $(REPORTS)/pytest.xml $(REPORTS)/example.xml

lint: | $(VENV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy --strict checks signalkit/ and tests/ (pyproject.toml), then the
# example project with its own settings (example_project/mypy.ini); pyright
# checks signalkit/ and example_project/ as a user's project would see them
# ([tool.pyright] in pyproject.toml; --pythonpath, since pyright does not find
# the virtualenv by itself).
typecheck: | $(VENV)
	$(BIN)/mypy
	cd example_project && ../$(BIN)/mypy
	$(BIN)/pyright --pythonpath $(BIN)/python

# coverage run, not pytest-cov: signalkit's pytest plugin is imported before
# pytest-cov starts, so its module-level lines would count as missed.
pytest: | $(VENV)
	$(BIN)/python -m coverage erase
	$(BIN)/python -m coverage run -m pytest -rs --junitxml=$(REPORTS)/pytest.xml
	$(BIN)/python -m coverage report

# The example project's own suite (example_project/pytest.ini), run against
# the real signalkit.
test-example: | $(VENV)
	cd example_project && ../$(BIN)/python -m pytest -rs --junitxml=../$(REPORTS)/example.xml

demo-setup: | $(VENV)
	$(PIP) install --quiet -e ".[toolbar,tasks,otel]" -r example_project/requirements.txt
	$(if $(OTEL),$(PIP) install --quiet -r example_project/requirements-otel.txt)
	cd example_project && ../$(BIN)/python manage.py migrate --noinput
	cd example_project && ../$(BIN)/python manage.py load_sample_data

demo: demo-setup
	cd example_project && \
	PATH="$(CURDIR)/$(BIN):$$PATH" && export PATH && \
	$(if $(strip $(DEMO_WORKER)),{ $(DEMO_WORKER) & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; } &&) \
	$(if $(OTEL),$(OTEL_SERVER),python manage.py runserver $(HOST):$(PORT))

docs: | $(VENV)
	$(PIP) install --quiet -e . -r requirements/docs.txt
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

# The sample outputs written in docs/*.rst, made again from the code
# (`make test` fails while one is stale).
docs-samples: | $(VENV)
	$(BIN)/python scripts/docs_samples.py --write

dist: | $(VENV)
	$(PIP) install --quiet build
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf build dist $(REPORTS) *.egg-info .tox .coverage .coverage.* htmlcov \
		.mypy_cache .pytest_cache .ruff_cache docs/_build
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
