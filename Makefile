# The two quick-start commands live here so they work on a fresh machine:
#   make serve   build the bundled records if needed, then serve them (embedded store)
#   make test    run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: serve test build bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/lod serve --build-if-needed $(ARGS)

build: $(STAMP)
	$(BIN)/lod build $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check lod tests bench serve.py
	$(BIN)/python -m pytest $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf var .pytest_cache
