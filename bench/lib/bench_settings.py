"""Settings of the benchmark servers: the product's, plus bench-only URLs (bench_urls)."""

from gridgov.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
DEBUG = False
LOGGING["root"]["level"] = "ERROR"  # noqa: F405 - no "Bad Request" lines in the figures
