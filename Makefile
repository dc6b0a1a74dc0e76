# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# What pip cannot bring comes from Debian's packages, when missing: as root, else with sudo.
APT    := $(strip $(if $(filter 0,$(shell id -u)),,sudo) DEBIAN_FRONTEND=noninteractive apt-get)
# The explorer's browser test (tests/test_app_browser.py) drives this Chromium.
CHROMIUM := /usr/bin/chromium

.PHONY: demo test lint bench mutants clean

# Solara's browser files are fetched once with npm (python -m sim.app.assets): the explorer's
# page needs them on a machine that cannot reach Solara's CDN.
$(STAMP): pyproject.toml
	command -v npm >/dev/null || { $(APT) update && $(APT) install -y npm; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/python -m sim.app.assets
	touch $(STAMP)

$(CHROMIUM):
	$(APT) update
	$(APT) install -y chromium chromium-driver

demo: $(STAMP)
	$(BIN)/stabsim run scenarios/gaza_isf_2025.yaml --seed 1
	$(BIN)/stabsim sweep scenarios/gaza_isf_2025.yaml --runs 3000 --seed 1 --out results/demo-gaza --force --paths
	$(BIN)/stabsim summary results/demo-gaza
	$(BIN)/stabsim report results/demo-gaza
	@echo "Briefing pack: $(CURDIR)/results/demo-gaza/briefing.pdf (and briefing.html, charts/)"

test: $(STAMP) | $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_sweep.py

# Mutation testing of the rule modules (not part of `make test`; docs/testing.md). One worker;
# `make mutants MUTANTS='sim.model.voting.*'` runs one module; `SAMPLE=200` runs a seeded
# random sample of 200 of the named mutants (how the model and the default protocol are
# measured in minutes). The runner's mutants are only its seeds and its resume logic.
MUTANTS ?= sim.model.voting.* sim.model.coalition.* sim.model.utility.* \
	sim.experiments.runner.x_run_seed* sim.experiments.runner.x_check_seed* \
	sim.experiments.runner.x__task_size* sim.experiments.runner.x__run_locked* \
	sim.model.protocols.* sim.model.model.*
SAMPLE ?=
mutants: $(STAMP)
ifeq ($(SAMPLE),)
	$(BIN)/mutmut run --max-children 1 $(foreach m,$(MUTANTS),'$(m)')
else
	$(BIN)/mutmut run --max-children 1 'sim.model.voting.x_vote_name*'  # generates ./mutants/
	$(BIN)/python tests/mutants.py sample $(SAMPLE) $(foreach m,$(MUTANTS),'$(m)') \
		| xargs $(BIN)/mutmut run --max-children 1
endif
	$(BIN)/mutmut results
	$(BIN)/python tests/mutants.py tally $(foreach m,$(MUTANTS),'$(m)')

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis mutants
