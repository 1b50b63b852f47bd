"""Web tests reuse the case fixtures (staff of every role, a catalogue, the service-driven flow)."""

import pytest
from django.test import Client

# Every fixture of the cases tests (staff, categories, flow, media, ...), whatever they depend on.
from gridgov.cases.tests.conftest import *  # noqa: F401,F403

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Each fixture user costs a full PBKDF2 run otherwise (seconds on a busy machine)."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def login():
    """login(user) -> a test client signed in as `user` (skips the lockout backend)."""

    def factory(user):
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return factory
