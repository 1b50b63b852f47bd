"""Token authentication caches token → user (with scope and roles) per process, and any
change of a token, user or role assignment in this process is seen at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from gridgov.org.models import StaffRole
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_client(api_client, make_user, region_tree):
    user = make_user([Role.DISPATCHER], scope=region_tree["district"])
    token = Token.objects.create(user=user)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client, user, token


def auth_queries(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/me/")
    sql = [query["sql"] for query in captured.captured_queries]
    # The token with its user and scope (/me/ then reads the user again for its own page).
    return response, [s for s in sql if "authtoken_token" in s]


def test_a_repeated_token_costs_no_query(token_client):
    client, _user, _token = token_client
    first, first_queries = auth_queries(client)
    second, second_queries = auth_queries(client)
    assert first.status_code == second.status_code == 200
    assert first_queries and second_queries == []
    assert second.json()["username"] == first.json()["username"]


def test_the_cached_user_brings_its_roles(token_client):
    from gridgov.org.authentication import TOKEN_CACHE

    client, user, token = token_client
    client.get("/api/v1/me/")
    cached, _token = TOKEN_CACHE.get(token.key)
    with CaptureQueriesContext(connection) as captured:
        assert cached.roles == {Role.DISPATCHER} and cached.scope_code == user.scope.code
    assert captured.captured_queries == []


def test_a_deleted_token_is_refused_at_once(token_client):
    client, _user, token = token_client
    assert client.get("/api/v1/me/").status_code == 200
    token.delete()
    response = client.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


def test_a_deactivated_user_is_refused_at_once(token_client):
    client, user, _token = token_client
    assert client.get("/api/v1/me/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/v1/me/").status_code == 401


def test_a_changed_role_is_seen_at_once(token_client):
    client, user, _token = token_client
    assert Role.DISPATCHER in client.get("/api/v1/me/").json()["roles"]
    StaffRole.objects.filter(user=user).delete()  # a queryset delete still sends post_delete per row
    StaffRole.objects.create(user=user, role=Role.SHIFT_LEAD)
    roles = client.get("/api/v1/me/").json()["roles"]
    assert Role.SHIFT_LEAD in roles and Role.DISPATCHER not in roles


def test_each_request_gets_its_own_user_object(token_client):
    from gridgov.org.authentication import TOKEN_CACHE

    client, _user, token = token_client
    client.get("/api/v1/me/")
    first, _ = TOKEN_CACHE.get(token.key)
    second, _ = TOKEN_CACHE.get(token.key)
    assert first is not second and first.pk == second.pk and first.roles == second.roles
    first.display_name = "changed by one request"
    assert TOKEN_CACHE.get(token.key)[0].display_name != "changed by one request"
