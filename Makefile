# The two commands a newcomer runs: `make run` (the local demo) and `make test`.
# Both build the virtual environment they need first.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit bench screenshots catalogs translations clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check crypto

typecheck: $(STAMP)
	$(BIN)/mypy

# Two workers, one per core; a test file stays on one worker (its module fixtures,
# the Tor network, a gunicorn it starts). `pytest` alone runs in one process.
unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadfile

# Other ports: make run PORTAL_PORT=9080 CONSOLE_PORT=9081
run: $(STAMP)
	$(BIN)/python demo.py $(if $(PORTAL_PORT),--portal-port $(PORTAL_PORT)) \
		$(if $(CONSOLE_PORT),--console-port $(CONSOLE_PORT))

bench: $(STAMP)
	$(BIN)/python -m bench

# Through Debian's chromium, into docs/screenshots/: the console's inbox and a
# report page in Russian at 1280 px, and every source page in ru and ky at 360 px.
screenshots: $(STAMP)
	AMANAT_SCREENSHOTS=docs/screenshots $(BIN)/pytest -p no:cacheprovider --no-cov -q \
		tests/browser/test_console_screenshots.py
	rm -f docs/screenshots/ru-*.png docs/screenshots/ky-*.png
	AMANAT_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -p no:cacheprovider --no-cov -q \
		tests/browser/test_source_safety.py -k screenshots

# Both apps' catalogs from one recipe (babel.cfg): the portal's strings live in
# portal/ and templates/portal/, the console's in admin/ and templates/admin/.
KEYWORDS := -k _l -k N_ -k lazy_gettext -k ngettext:1,2
catalogs: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg $(KEYWORDS) --omit-header -o .portal.pot portal templates/portal
	$(BIN)/pybabel -q update -i .portal.pot -d portal/translations
	$(BIN)/pybabel -q extract -F babel.cfg $(KEYWORDS) --omit-header -o .admin.pot admin templates/admin
	$(BIN)/pybabel -q update -i .admin.pot -d admin/translations
	rm -f .portal.pot .admin.pot

translations: $(STAMP)
	$(BIN)/pybabel compile -d portal/translations
	$(BIN)/pybabel compile -d admin/translations

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .coverage
