# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Development conveniences are switched on here, never by default in settings.
DEV_ENV := DJANGO_DEBUG=1 DJANGO_EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend
TEST_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-only-secret-key-test-only-secret-key-0123456789 \
	DJANGO_ALLOWED_HOSTS=testserver,localhost,127.0.0.1

.PHONY: run test install install-dev migrate demo serve check lint messages clean bench bench-import

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Installs are stamped so that a second `make run` does not reinstall.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	mkdir -p data
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

demo: migrate
	$(DEV_ENV) $(BIN)/python manage.py load_demo_data

serve:
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

run: demo serve

test: install-dev
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

check: install-dev
	mkdir -p data
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(DEV_ENV) $(BIN)/python manage.py check

lint: install-dev
	$(BIN)/ruff check .

# Benchmarks print figures and ratios; they are not timed tests (see bench/).
bench: bench-import

bench-import: install-dev
	$(TEST_ENV) $(BIN)/python bench/import_bench.py

# Re-extract the translatable strings after changing user-facing text; commit the .po and .mo.
messages: install-dev
	$(DEV_ENV) $(BIN)/python manage.py makemessages -l nb --ignore=.venv --ignore=data
	$(DEV_ENV) $(BIN)/python manage.py compilemessages -l nb --ignore=.venv

clean:
	rm -rf $(VENV) data .pytest_cache
