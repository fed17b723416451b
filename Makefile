# The two commands a newcomer needs are `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test install migrate demo lint check e2e bench bench-console chaos clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py demo_data

## Set up everything, load demo data, then run the web server, a django-q2 cluster and the
## local Baserow/Docmost stand-ins in the foreground (Ctrl-C stops them all).
run: demo
	SYNC_DEV_APP_URL=http://127.0.0.1:$(PORT) $(PY) manage.py devserver --port $(PORT)

## The whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL).
test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check .

check: install
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles

## Benchmarks, outside the test suite (~10 min, loopback only; needs PostgreSQL and Redis running):
## webhook ingest against a bare-view floor, end-to-end sync with 1/2/4 workers, duplicates, peak memory.
bench: install
	$(PY) -m tests.bench.run_bench

## Speed at scale: a throwaway PostgreSQL database with 1M sync events, 100k audit entries and 20k
## incidents; prints each console page's median/p95 time and query count, then drops the database.
bench-console: install
	$(PY) -m tests.bench.console_bench

## Fault scenarios, outside the test suite (~12 min, loopback only): task workers killed with -9 mid-job, the
## Docmost stand-in stopped for 2 minutes, PostgreSQL restarted during ingest, every idle worker killed (the
## stall guard restarts the cluster); prints what was lost (must be nothing).
## PostgreSQL is started again at the end whatever happens.
chaos: install
	$(PY) -m tests.bench.run_chaos; status=$$?; \
	pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start; \
	exit $$status
