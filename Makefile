# The two commands the README promises: `make demo` and `make test`.
# Both run scripts/setup.sh first, which is idempotent and quiet when nothing changed.
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest
# Headed tests need a display: the existing one, else a virtual one.
XRUN := $(if $(DISPLAY),,xvfb-run -a -s "-screen 0 1920x1080x24")

.PHONY: setup demo test test-headless test-headed lint bench screenshots clean

setup:
	@bash scripts/setup.sh --headed

demo: setup
	$(BIN)/onboard demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agent

test-headless: setup
	$(PYTEST) -m "not headed" -p no:cacheprovider

test-headed: setup
	$(XRUN) $(PYTEST) -m headed --headed -p no:cacheprovider

test: lint test-headless test-headed

bench: setup
	@# Both benchmarks always run; the target fails if either missed a target.
	$(BIN)/python -m tests.bench; a=$$?; $(BIN)/python -m tests.bench_batch; b=$$?; exit $$((a | b))

screenshots: setup
	ONBOARD_SCREENSHOTS=$(CURDIR)/docs/replica $(PYTEST) tests/replica/test_screenshots.py -p no:cacheprovider

clean:
	rm -rf $(VENV) dist build .pytest_cache .ruff_cache
