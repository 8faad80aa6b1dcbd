# azsecmap task runner. `make help` lists the targets.
PYTHON ?= python3
PIP    ?= $(PYTHON) -m pip

.PHONY: help install build lint fmt test test-rust test-python bench catalog clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: ## install azsecmap with its test and dev tools into the current Python
	$(PIP) install --upgrade maturin
	$(PIP) install -e ".[dev]"

build: ## rebuild the extension in place (debug profile)
	maturin develop

lint: ## ruff, mypy, cargo fmt and clippy
	ruff check python tests benches scripts
	ruff format --check python tests benches scripts
	mypy
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt: ## format Rust and Python
	cargo fmt --all
	ruff format python tests benches scripts

test: install test-rust test-python ## install, then run the Rust and the Python tests

test-rust: ## the Rust engine's tests (no Python needed)
	cargo test -p azsecmap-core

test-python: ## the Python tests
	$(PYTHON) -m pytest

bench: ## benchmarks, release builds only
	cargo bench -p azsecmap-core --bench engine
	maturin develop --release
	$(PYTHON) -m pytest benches --benchmark-only

catalog: ## regenerate frameworks/catalog from ../shared/data (or AZSECMAP_DATA)
	$(PYTHON) scripts/build_catalog.py

clean: ## remove build products
	cargo clean
	rm -rf .pytest_cache .ruff_cache .mypy_cache
