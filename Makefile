# Two entry points that work on a fresh machine (Python 3.11+, gcc, cmake):
#   make demo   set up .venv, ingest the sample documents, ask a question, print a cited answer
#   make test   set up .venv with the test extras and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
INDEX  ?= .demo-index
QUESTION ?= Which exit code does rag ingest return when some files fail?

.PHONY: demo test install lint bench clean browser serve

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

# The CPU build of PyTorch goes in first: otherwise sentence-transformers pulls a multi-GB CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install torch==2.13.0
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

samples/user-guide.pdf: docs/user-guide.md scripts/build_sample_pdf.py $(BIN)/python
	$(BIN)/python scripts/build_sample_pdf.py docs/user-guide.md $@

demo: install samples/user-guide.pdf
	$(BIN)/rag ingest samples --index $(INDEX)
	$(BIN)/rag ask "$(QUESTION)" --index $(INDEX)

test: install
	$(BIN)/python -m pytest

# The web page's test drives Debian's headless Chromium through Playwright (Playwright's own browser
# download needs a host this network does not reach). Needs root (CI runs as root); skipped if present.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

serve: install
	$(BIN)/rag serve --index $(INDEX)

lint: install
	$(BIN)/ruff check rag ingest indexes tests benchmarks
	$(BIN)/mypy

bench: install
	$(BIN)/python benchmarks/ingest_speed.py

clean:
	rm -rf $(INDEX) samples/user-guide.pdf
