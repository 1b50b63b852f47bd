"""The OpenAPI schema is complete and valid, and the docs page loads."""

import os
import subprocess
import sys

import pytest
from django.contrib.staticfiles import finders


def test_schema_generates_without_warnings_or_errors(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gridgov.cli", "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")],
        capture_output=True, text=True, timeout=180, env={**os.environ, "DJANGO_SETTINGS_MODULE": "gridgov.settings"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output and "Error" not in output, output
    assert "/api/v1/cases/{id}/dispatch/" in (tmp_path / "schema.yaml").read_text(encoding="utf-8")


@pytest.mark.django_db
def test_schema_endpoint_documents_the_error_format(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message", "fields"]
    dispatch = schema["paths"]["/api/v1/cases/{id}/dispatch/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(dispatch["responses"])


@pytest.mark.django_db
def test_docs_page_loads_with_local_swagger_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "/api/schema/" in page
    # The assets exist locally (no CDN): the page works offline.
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"vendor/swagger-ui/{asset}"), asset
