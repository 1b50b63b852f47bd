"""Who may open the screen: kiosk tokens (403 for wrong/expired/revoked) and leaders."""

import datetime as dt

import pytest
from django.test import Client

from gridgov.org.roles import Role

OVERVIEW = "/api/v1/screen/overview/"
DATA_KEYS = {"governance", "map", "emergency", "trends"}


def get_overview(token):
    return Client().get(OVERVIEW, {"token": token})


@pytest.mark.django_db
class TestKioskToken:
    def test_valid_token_gets_the_overview_and_a_stream_ticket(self, kiosk_token):
        token, raw = kiosk_token()
        response = get_overview(raw)
        assert response.status_code == 200
        body = response.json()
        assert DATA_KEYS <= body.keys()
        assert body["scope"] == {"code": token.scope.code, "name": "南村街道", "kiosk": True}
        assert body["live"]["ticket"] and body["live"]["events_url"] == "/events/"
        token.refresh_from_db()
        assert token.last_used_at is not None

    def test_token_in_the_authorization_header(self, kiosk_token):
        _, raw = kiosk_token()
        assert Client().get(OVERVIEW, HTTP_AUTHORIZATION=f"Kiosk {raw}").status_code == 200

    @pytest.mark.parametrize("case", ["wrong", "expired", "revoked", "empty"])
    def test_bad_tokens_get_403_and_no_data(self, kiosk_token, case):
        if case == "wrong":
            kiosk_token()
            raw = "not-a-token"
        elif case == "expired":
            _, raw = kiosk_token(expires_in=-dt.timedelta(minutes=1))
        elif case == "revoked":
            _, raw = kiosk_token(revoked=True)
        else:
            raw = ""
        response = get_overview(raw)
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "kiosk_token_invalid"
        assert not DATA_KEYS & body.keys()
        page = Client().get("/screen/", {"token": raw})
        assert page.status_code == 403
        assert b"data-overview-url" not in page.content

    def test_revoking_in_the_admin_ends_access(self, kiosk_token, make_user):
        token, raw = kiosk_token()
        admin = make_user(roles=[Role.SYSADMIN], is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(admin)
        response = client.post(
            "/admin/screen/kiosktoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
        )
        assert response.status_code == 200
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert get_overview(raw).status_code == 403

    def test_creating_in_the_admin_stores_only_the_hash(self, region_tree, make_user):
        admin = make_user(roles=[Role.SYSADMIN], is_staff=True, is_superuser=True)
        client = Client()
        client.force_login(admin)
        response = client.post(
            "/admin/screen/kiosktoken/add/",
            {"label": "值班室副屏", "scope": region_tree["community1"].pk, "expires_at_0": "2099-01-01", "expires_at_1": "00:00:00"},
            follow=True,
        )
        assert response.status_code == 200
        message = next(str(m) for m in response.context["messages"])
        raw = message.split("?token=")[1].strip()
        from gridgov.screen.models import KioskToken, hash_token

        token = KioskToken.objects.get(label="值班室副屏")
        assert token.token_hash == hash_token(raw) and raw not in token.token_hash
        assert get_overview(raw).json()["scope"]["code"] == region_tree["community1"].code

    def test_page_with_a_valid_token(self, kiosk_token):
        _, raw = kiosk_token()
        response = Client().get("/screen/", {"token": raw})
        assert response.status_code == 200
        assert response["Referrer-Policy"] == "no-referrer"
        page = response.content.decode()
        assert "data-overview-url" in page and "南村街道" in page
        assert "综治中心" in page  # the screen reads in Chinese


@pytest.mark.django_db
class TestLeaders:
    @pytest.mark.parametrize("role", [Role.SUBDISTRICT_LEADER, Role.COMMUNITY_SECRETARY, Role.SHIFT_LEAD, Role.SYSADMIN])
    def test_leaders_may_open_the_screen(self, region_tree, make_user, role):
        client = Client()
        client.force_login(make_user(roles=[role], scope=region_tree["subdistrict"]))
        assert client.get("/screen/").status_code == 200
        assert client.get(OVERVIEW).status_code == 200

    @pytest.mark.parametrize("role", [Role.GRID_INSPECTOR, Role.DISPATCHER, Role.DEPT_HANDLER])
    def test_other_staff_get_403(self, region_tree, make_user, role):
        client = Client()
        client.force_login(make_user(roles=[role], scope=region_tree["subdistrict"]))
        assert client.get("/screen/").status_code == 403
        assert client.get(OVERVIEW).status_code == 403

    def test_anonymous_page_goes_to_login_and_api_refuses(self, region_tree):
        response = Client().get("/screen/")
        assert response.status_code == 302 and "/login/" in response["Location"]
        assert Client().get(OVERVIEW).status_code in (401, 403)

    def test_a_community_secretary_sees_only_their_community(self, region_tree, make_user, make_case):
        make_case("grid11")
        make_case("grid21")
        make_case("grid22")
        client = Client()
        client.force_login(make_user(roles=[Role.COMMUNITY_SECRETARY], scope=region_tree["community2"]))
        body = client.get(OVERVIEW).json()
        assert body["governance"]["today"]["created"] == 2
        assert body["governance"]["regions"]["grids"] == 2
        assert {f["properties"]["code"] for f in body["map"]["grids"]["features"]} == {
            region_tree["grid21"].code, region_tree["grid22"].code
        }
