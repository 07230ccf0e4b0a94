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

# llama-cpp-python compiles llama.cpp for this CPU. On x86-64 its AMX kernels are left out: where the
# kernel or a VM does not grant AMX state (seen on a Xeon with amx_tile, amx_int8), they crash the first
# matrix product with SIGSEGV. A CMAKE_ARGS set by the user is kept as given. pip caches the wheel it
# builds whatever the flags, so the wheel is built into $(WHEELS) (a folder per version and flag set, outside
# the checkout so that a fresh clone reuses it) and installed from there: a wheel built with other flags is never reused.
LLAMA_CPP ?= llama-cpp-python==0.3.36
ifeq ($(shell uname -m),x86_64)
NO_AMX = -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
CMAKE_ARGS ?= -DCMAKE_C_FLAGS="$(NO_AMX)" -DCMAKE_CXX_FLAGS="$(NO_AMX)"
endif
WHEELS ?= $(HOME)/.cache/rag-local/wheels
LLAMA_WHEELS = $(WHEELS)/$(shell printf '%s' '$(LLAMA_CPP) $(CMAKE_ARGS)' | cksum | cut -d' ' -f1)

# The CPU build of PyTorch goes in first: otherwise sentence-transformers pulls a multi-GB CUDA build.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install torch==2.13.0
	test -n "$$(ls $(LLAMA_WHEELS)/*.whl 2>/dev/null)" || CMAKE_ARGS='$(CMAKE_ARGS)' \
		$(BIN)/python -m pip wheel --no-deps --no-cache-dir -w $(LLAMA_WHEELS) '$(LLAMA_CPP)'
	$(BIN)/python -m pip install $(LLAMA_WHEELS)/*.whl
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
