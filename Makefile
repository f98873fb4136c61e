# The two commands a newcomer needs: `make run` and `make test`. See README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Development conveniences are switched on here, never by default in settings.
DEV_ENV := DJANGO_DEBUG=1 DJANGO_EMAIL_BACKEND=django.core.mail.backends.console.EmailBackend REGISTRY_REQUIRE_2FA=0
# The tests run the production settings, except: plain HTTP, no collected static files, and no second
# factor unless a test turns it on.
TEST_ENV := DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-only-secret-key-test-only-secret-key-0123456789 \
	DJANGO_ALLOWED_HOSTS=testserver,localhost,127.0.0.1 DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_STATIC_HASHED=0 \
	REGISTRY_REQUIRE_2FA=0

.PHONY: run test install install-dev migrate demo serve check lint messages clean audit bench bench-search bench-load bench-import bench-upload

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

# Two demo editors, one per region, to try the office boundaries: each sees only its own municipalities.
DEMO_EDITORS := demo-trondelag:trondelag demo-vestland:vestland

demo: migrate
	$(DEV_ENV) $(BIN)/python manage.py load_demo_data
	@for pair in $(DEMO_EDITORS); do \
		$(DEV_ENV) $(BIN)/python manage.py add_editor $${pair%%:*} $${pair##*:} --email $${pair%%:*}@example.no --reset-password \
		|| exit 1; \
	done

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

# Known vulnerabilities in the pinned dependencies. Needs the PyPI advisory service (pypi.org), which CI
# machines do not reach: bounded by a timeout, and says so when it cannot finish.
AUDIT_TIMEOUT ?= 120
audit: install-dev
	@timeout $(AUDIT_TIMEOUT) $(BIN)/pip-audit --requirement constraints.txt --no-deps --disable-pip \
		--progress-spinner off --timeout 20 --strict \
	|| { status=$$?; if [ $$status -eq 124 ]; then \
		echo "make audit: pip-audit gave no answer within $(AUDIT_TIMEOUT)s; is pypi.org reachable from here?" >&2; \
	else echo "make audit: pip-audit failed (exit $$status): vulnerable packages are listed above, or it could not check every package (no answer from the advisory service at pypi.org?)." >&2; fi; exit 1; }

# Load figures: gunicorn with the production settings on PostgreSQL, driven by wrk from loopback.
BENCH_LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/registry_bench
bench-load: install
	BENCH_DATABASE_URL=$(BENCH_LOAD_DATABASE_URL) $(BIN)/python bench/load.py
# Benchmarks print figures and ratios; they are not timed tests (see bench/).

# The import's target is on PostgreSQL (issue 10): a throwaway test_… database next to BENCH_IMPORT_DATABASE_URL's.
BENCH_IMPORT_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/registry_bench_import
bench-import: install-dev
	$(TEST_ENV) DATABASE_URL=$${DATABASE_URL:-$(BENCH_IMPORT_DATABASE_URL)} $(BIN)/python bench/import_bench.py

# Hostile uploads (small files that unpack to a lot of XML) through the admin: peak memory and seconds each.
bench-upload: install-dev
	$(TEST_ENV) $(BIN)/python bench/upload_bench.py

# Re-extract the translatable strings after changing user-facing text; commit the .po and .mo.
messages: install-dev
	$(DEV_ENV) $(BIN)/python manage.py makemessages -l nb --ignore=.venv --ignore=data
	$(DEV_ENV) $(BIN)/python manage.py compilemessages -l nb --ignore=.venv

# Speed targets, measured on PostgreSQL. Each bench-* target prints its figures; bench runs them all.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/registry_bench_search

bench: bench-import bench-upload bench-search bench-load

bench-search: install-dev
	$(TEST_ENV) DATABASE_URL=$${DATABASE_URL:-$(BENCH_DATABASE_URL)} $(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) data .pytest_cache
