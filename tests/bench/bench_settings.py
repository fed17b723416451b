"""The product's settings with the benchmark's URLconf (the product's URLs plus the floor view)."""

from formation_hub.settings import *  # noqa: F403 - the same settings, one change below

ROOT_URLCONF = "tests.bench.bench_urls"
