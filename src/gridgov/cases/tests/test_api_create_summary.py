"""The create response is built without a serializer instance; it must stay exactly what
CaseCreatedSerializer (the schema's declaration) would give."""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from gridgov.cases.api import CaseCreatedSerializer
from gridgov.cases.models import Case

from .conftest import IN_GRID_11, IN_SUBDISTRICT_NO_GRID

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("point", [IN_GRID_11, IN_SUBDISTRICT_NO_GRID])
def test_create_response_equals_the_declared_serializer(api_client, staff, categories, point):
    body = {"channel": "hotline", "description": "路灯不亮", "category": categories.garbage.pk,
            "lon": point[0], "lat": point[1]}
    response = api_client(staff.clerk).post("/api/v1/cases/", body, format="json")
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["id"])
    declared = CaseCreatedSerializer(case, context={"request": response.wsgi_request}).data
    assert response.json() == json.loads(JSONRenderer().render(declared))
    assert response.json()["url"].endswith(f"/api/v1/cases/{case.pk}/")
