# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create .venv and install the project; `make test` also installs what the tests start.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test install bytecode test-tools bench soak reliability perf clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) bytecode

# An editable install compiles none of our modules, and with PYTHONDONTWRITEBYTECODE set (as on
# our machines) Python never caches them: every start would compile ~100 modules again (0.1-0.2 s).
# compileall only redoes files that changed since.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q tui analysis widgets > /dev/null

demo: $(STAMP) bytecode
	$(BIN)/incident-tui demo

test-tools:
	bash .ci/install-test-tools

test: $(STAMP) test-tools
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	bash .ci/install-bench-tools
	$(BIN)/python bench/compare.py --markdown docs/ANALYZER.md

# 30 minutes of the real demo dashboard with the worker crash-looping; app RSS and CPU every 10 s.
soak: $(STAMP)
	$(BIN)/python bench/soak.py --markdown docs/SOAK.md

# Start-up, idle CPU, redraw, RSS, API load, time to root cause, terminal bytes; then docs/PERFORMANCE.md.
perf: $(STAMP) bytecode test-tools
	$(BIN)/python bench/perf_app.py --json bench/results/perf_app.json
	$(BIN)/python bench/perf_api.py --json bench/results/perf_api.json
	$(BIN)/python bench/perf_analysis.py --json bench/results/perf_analysis.json
	$(BIN)/python bench/perf_terminal.py --json bench/results/perf_terminal.json
	$(BIN)/python bench/performance_report.py --markdown docs/PERFORMANCE.md

# Every upstream x every fault against the live dashboard; writes the table to docs/RELIABILITY.md.
reliability: $(STAMP) test-tools
	INCIDENT_TUI_RELIABILITY_DOC=docs/RELIABILITY.md $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_faults.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
