# CityOps developer commands. `make run` and `make test` are the two set-up commands.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export QTWEBENGINE_CHROMIUM_FLAGS ?= --no-sandbox
export PYTHONDONTWRITEBYTECODE = 1

# The window's translations: Qt Linguist sources (.ts, committed) built to .qm (not
# committed: generated, like the venv) whenever the source is newer.
TS     := resources/translations/cityops_zh_CN.ts
QM     := $(TS:.ts=.qm)

.PHONY: run test lint typecheck pytest clean translations lupdate

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(QM): $(TS) | $(STAMP)
	$(BIN)/pyside6-lrelease -silent $(TS) -qm $(QM)

translations: $(QM)

# Collect new or changed texts from the code into the .ts sources (then translate them).
lupdate: $(STAMP)
	$(BIN)/pyside6-lupdate $(sort $(wildcard ui/*.py widgets/*.py)) -ts $(TS) \
		-no-obsolete -locations none -target-language zh_CN

run: $(STAMP) $(QM)
	$(BIN)/cityops $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(QM)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache $(QM)
