"""The product's settings with the benchmark's URLconf (the product's URLs plus the floor view), and the
bench's SQL counter."""

from formation_hub.settings import *  # noqa: F403 - the same settings, one change below

ROOT_URLCONF = "tests.bench.bench_urls"

# Counts SQL statements and commits per process when the harness sets BENCH_SQL_DIR.
from tests.bench import sqlcount  # noqa: E402

sqlcount.install()
