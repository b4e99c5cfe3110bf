# ContraVento performance harness. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): requirements/dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements/dev.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP) ## Create .venv with the pinned dependencies (requirements/dev.lock)

lint: $(STAMP) ## ruff (lint + format check) and mypy --strict on backend/ and harness/
	$(VENV)/bin/ruff check backend harness tests
	$(VENV)/bin/ruff format --check backend harness tests
	$(VENV)/bin/mypy

test: lint ## Lint, then the whole test suite (Docker tests skip without a daemon, fail in CI)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

fmt: $(STAMP) ## Format and auto-fix the code
	$(VENV)/bin/ruff format backend harness tests
	$(VENV)/bin/ruff check --fix backend harness tests

backend: $(STAMP) ## Run the reference backend locally on SQLite (HOST, PORT; env as in README)
	SECRET_KEY=$${SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(48))')} \
	APP_ENV=$${APP_ENV:-testing} $(PY) -m backend --host $(HOST) --port $(PORT)

bench-backend: $(STAMP) ## Median latency of register/login/profile/feed on PostgreSQL, 1 vs 2 workers
	$(PY) -m tests.bench.backend_latency

images: $(STAMP) ## Build the backend, locust and postgres images (offline base when no registry)
	$(VENV)/bin/harness images $(if $(BASE),--base $(BASE))

harness-up: $(STAMP) ## Start (or reuse) an isolated stack: PostgreSQL + backend on 127.0.0.1
	$(VENV)/bin/harness up $(HARNESS_UP_ARGS)

harness-down: $(STAMP) ## Stop the current stack; no labelled container, network or volume remains
	$(VENV)/bin/harness down

harness-status: $(STAMP) ## Show the current stack (URL, DSN, containers)
	$(VENV)/bin/harness status

harness-clean: $(STAMP) ## Remove everything crashed runs left behind (owner process gone)
	$(VENV)/bin/harness clean

bench-stack: $(STAMP) ## harness-up time (cached; COLD=3 adds no-image runs) vs plain docker run postgres
	$(PY) -m tests.bench.stack_startup --runs 3 --cold $(or $(COLD),0)

full-load: $(STAMP) ## Build, start (or reuse), seed, bench, load, verdict (non-zero on FAIL)
	$(VENV)/bin/harness full-load $(FULL_LOAD_ARGS)

capacity: $(STAMP) ## The highest arrival rate that holds every SLO (CAPACITY_ARGS, e.g. --rate 20 --steps 6)
	$(VENV)/bin/harness capacity $(CAPACITY_ARGS)

compare: $(STAMP) ## Is B slower than A? BASE=, CANDIDATE= (git revision, image:NAME or a harness.toml)
	$(VENV)/bin/harness compare --base "$(BASE)" --candidate "$(CANDIDATE)" $(COMPARE_ARGS)

bench: $(STAMP) ## The benchmark suite against the running stack (BENCH_ARGS, e.g. --rounds 50)
	$(VENV)/bin/harness bench $(BENCH_ARGS)

bench-baseline: $(STAMP) ## Run the suite and save it as baseline NAME=...
	$(VENV)/bin/harness bench --save-baseline "$(NAME)" $(BENCH_ARGS)

bench-compare: $(STAMP) ## Run the suite; fail on a regression beyond noise vs baseline NAME=...
	$(VENV)/bin/harness bench --compare "$(NAME)" $(BENCH_ARGS)

load-baseline: $(STAMP) ## Load the running stack: 10 users, 2 min (LOAD_ARGS for more options)
	$(VENV)/bin/harness load --shape baseline $(LOAD_ARGS)

load-rate: $(STAMP) ## Open model against the running stack: RATE iterations/s (default 20), 2 min
	$(VENV)/bin/harness load --shape rate --rate $(or $(RATE),20) $(LOAD_ARGS)

load-stress: $(STAMP) ## Ramp to 500 users: where does it break?
	$(VENV)/bin/harness load --shape stress $(LOAD_ARGS)

load-soak: $(STAMP) ## 100 users for 30 min
	$(VENV)/bin/harness load --shape soak $(LOAD_ARGS)

worker: $(STAMP) ## Locust workers here for a master elsewhere: MASTER=host [MASTER_PORT=5557]
	$(VENV)/bin/harness worker --master-host "$(MASTER)" --master-port $(or $(MASTER_PORT),5557) $(WORKER_ARGS)

load-spike: $(STAMP) ## 200 users spawned at 100/s
	$(VENV)/bin/harness load --shape spike $(LOAD_ARGS)

load-ui: $(STAMP) ## Locust master with its web UI on 127.0.0.1:8089 (Ctrl-C to stop)
	$(VENV)/bin/harness load --ui $(LOAD_ARGS)

seed: $(STAMP) ## Seed the current stack (PROFILE=tiny|small|medium|large, SEED=n, RESET=1)
	$(VENV)/bin/harness seed --profile $(or $(PROFILE),small) --seed $(or $(SEED),1) $(if $(RESET),--reset)

bench-seed: $(STAMP) ## Seeder rows/s vs psql \copy of the same rows (PROFILE=medium)
	$(PY) -m tests.bench.seed_throughput --profile $(or $(PROFILE),medium)

bench-seed-cache: $(STAMP) ## Seed vs save/restore of a template database, local PostgreSQL (PROFILES=small,medium)
	$(PY) -m tests.bench.seed_cache $(if $(PROFILES),--profiles $(PROFILES))

bench-open-closed: $(STAMP) ## Reference backend's capacity, then open vs closed model p95 past the knee (Docker)
	$(PY) -m tests.bench.open_closed $(OPEN_CLOSED_ARGS)

bench-load: $(STAMP) ## FastHttpUser vs HttpUser per core, stress max rps, p95 at 100 users (small)
	$(PY) -m tests.bench.load_figures

bench-monitor: $(STAMP) ## Cgroup sampler vs stats streams vs a docker stats loop: coverage, own and dockerd CPU
	$(PY) -m tests.bench.monitor_figures --containers $(or $(CONTAINERS),8) --seconds $(or $(DURATION),60)

bench-profile: $(STAMP) ## py-spy's own CPU and the profiled process's slowdown, by sampling rate
	$(PY) -m tests.bench.profile_figures

bench-crash: $(STAMP) ## Leftovers after kill -9 of full-load at random moments (TRIALS=10)
	$(PY) -m tests.bench.crash_figures --trials $(or $(TRIALS),10)

bench-soak: $(STAMP) ## Soak (USERS=100, MINUTES=30): failure rate, backend memory start vs end
	$(PY) -m tests.bench.soak_figures --users $(or $(USERS),100) --minutes $(or $(MINUTES),30)

COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)
COMPOSE_FILES := -f compose/stack.yml -f compose/locust.yml
COMPOSE_RESULTS ?= $(CURDIR)/reports/compose
WORKERS ?= 2
export WORKERS

compose-up: images ## PostgreSQL + backend with Docker Compose on 127.0.0.1 (export POSTGRES_PASSWORD, SECRET_KEY)
	$(COMPOSE) -f compose/stack.yml up -d

compose-load: images ## A bounded Locust run (master + WORKERS workers) on the compose stack -> reports/compose
	mkdir -p "$(COMPOSE_RESULTS)" && chmod 0777 "$(COMPOSE_RESULTS)"
	$(COMPOSE) $(COMPOSE_FILES) up -d postgres backend
	RESULTS_DIR="$(COMPOSE_RESULTS)" $(COMPOSE) $(COMPOSE_FILES) up --scale worker=$(WORKERS) --exit-code-from master master worker

compose-down: ## Remove the compose stack and load: containers, network and the database volume
	POSTGRES_PASSWORD=$${POSTGRES_PASSWORD:-unused} SECRET_KEY=$${SECRET_KEY:-unused} \
	$(COMPOSE) $(COMPOSE_FILES) down -v --remove-orphans

report: $(STAMP) ## Rebuild a run's report from its saved data (RUN=reports/latest)
	$(VENV)/bin/harness report $(or $(RUN),reports/latest)

lock: ## Re-pin requirements/*.lock from fresh virtualenvs
	$(PYTHON) requirements/relock.py

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

.PHONY: help venv lint test fmt backend worker bench bench-baseline bench-compare compare bench-backend bench-stack bench-seed bench-seed-cache bench-load bench-open-closed bench-monitor bench-profile bench-crash bench-soak compose-up compose-load compose-down report images seed full-load capacity load-baseline load-rate load-stress load-soak load-spike load-ui harness-up harness-down harness-status harness-clean lock clean
