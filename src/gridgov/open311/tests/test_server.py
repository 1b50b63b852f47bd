"""The Open311 GeoReport v2 server, spoken to over real HTTP (pytest-django's live_server):
the `georeport` client library for the GETs it supports, plain `requests` for POST (the
library cannot create requests) and for the spec's error cases."""

import datetime as dt
from xml.etree import ElementTree

import pytest
import requests
from georeport import GeoReport

from gridgov.cases.models import Case, Channel
from gridgov.open311.models import ServiceRequest

from .conftest import IN_GRID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def base(live_server):
    return f"{live_server.url}/open311/v2"


@pytest.fixture
def client(base):
    return GeoReport(base)


@pytest.fixture
def xml_client(base):
    return GeoReport(base, output_format="xml")


def post(base, data, fmt="json", **kwargs):
    return requests.post(f"{base}/requests.{fmt}", data=data, timeout=10, **kwargs)


def report(base, api_key, **fields):
    data = {"api_key": api_key.key, "service_code": "T102", "description": "路口有一堆垃圾", **IN_GRID, **fields}
    response = post(base, data)
    assert response.status_code == 201, response.text
    return response.json()[0]


# --- discovery and services ----------------------------------------------------------------
def test_discovery_in_json_and_xml(base):
    data = requests.get(f"{base}/discovery.json", timeout=10).json()
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and "text/xml" in endpoint["formats"]
    response = requests.get(f"{base}/discovery.xml", timeout=10)
    assert response.headers["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def test_client_lists_services_as_sub_categories(client, services_catalog):
    services = client.get_service_list()
    assert [(s["service_code"], s["service_name"], s["group"]) for s in services] == [
        ("T102", "暴露垃圾", "测试市容环境"),
        ("T201", "道路破损", "测试道路交通"),
    ]
    garbage = services[0]
    assert garbage["metadata"] is True and garbage["type"] == "realtime" and garbage["keywords"] == "垃圾,脏乱"
    assert garbage["description"] == "公共区域可见的垃圾"


def test_client_reads_services_as_xml_with_the_specs_element_names(xml_client, base, services_catalog):
    services = xml_client.get_service_list()
    assert [s["service_code"] for s in services] == ["T102", "T201"]
    root = ElementTree.fromstring(requests.get(f"{base}/services.xml", timeout=10).content)
    assert root.tag == "services"
    first = root.find("service")
    assert [child.tag for child in first] == [
        "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
    ]
    assert first.find("metadata").text == "true"


def test_client_reads_a_service_definition(client, xml_client, services_catalog):
    definition = client.get_service_definition("T102")
    assert definition["service_code"] == "T102"
    codes = {attribute["code"]: attribute for attribute in definition["attributes"]}
    assert codes["crs"]["datatype"] == "singlevaluelist" and codes["crs"]["required"] is False
    assert [value["key"] for value in codes["crs"]["values"]] == ["wgs84", "gcj02", "bd09"]
    assert codes["client_key"]["datatype"] == "string"
    as_xml = xml_client.get_service_definition("T102")
    attributes = as_xml["attributes"]["attribute"]
    assert attributes[0]["code"] == "crs" and attributes[0]["variable"] == "true"
    assert attributes[0]["values"]["value"][1]["key"] == "gcj02"


def test_unknown_service_definition_is_a_404_in_the_error_format(base, services_catalog):
    response = requests.get(f"{base}/services/NOPE.json", timeout=10)
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404 and "NOPE" in response.json()[0]["description"]
    response = requests.get(f"{base}/services/T199.xml", timeout=10)  # inactive 小类
    root = ElementTree.fromstring(response.content)
    assert response.status_code == 404 and root.tag == "errors" and root.find("error/code").text == "404"


# --- POST requests -------------------------------------------------------------------------------
def test_post_creates_a_resident_case_and_the_client_reads_it_back(base, client, api_key, services_catalog):
    answer = report(base, api_key, first_name="小明", last_name="王", phone="13900001111", email="wang@example.com")
    case = Case.objects.get(number=answer["service_request_id"])
    assert case.channel == Channel.RESIDENT and case.category == services_catalog.garbage
    assert case.grid is not None and case.reporter_phone == "13900001111" and case.reporter_name == "王小明"
    assert ServiceRequest.objects.get(case=case).email == "wang@example.com"
    request = client.get_service_request(answer["service_request_id"])
    assert request["status"] == "open" and request["service_code"] == "T102" and request["service_name"] == "暴露垃圾"
    assert request["description"] == "路口有一堆垃圾"
    assert float(request["lat"]) == pytest.approx(36.69) and float(request["long"]) == pytest.approx(117.005)
    assert dt.datetime.fromisoformat(request["requested_datetime"]).utcoffset() is not None
    # No contact data of the reporter in the public answer.
    text = requests.get(f"{base}/requests/{answer['service_request_id']}.json", timeout=10).text
    for secret in ("13900001111", "王小明", "wang@example.com", "first_name", "phone", "email"):
        assert secret not in text


def test_post_answers_in_xml_too(base, api_key, services_catalog):
    data = {"api_key": api_key.key, "service_code": "T201", "address_string": "南村街道工业北路", "description": "路面坑洼"}
    response = post(base, data, fmt="xml")
    assert response.status_code == 201 and response.headers["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.content)
    assert root.tag == "service_requests"
    assert {child.tag for child in root.find("request")} >= {"service_request_id", "service_notice", "account_id"}
    case = Case.objects.get(number=root.find("request/service_request_id").text)
    assert case.needs_placement and case.address == "南村街道工业北路"


def test_a_resend_with_the_same_client_key_makes_no_duplicate(base, api_key, services_catalog):
    data = {"api_key": api_key.key, "service_code": "T102", "description": "垃圾", **IN_GRID}
    first = post(base, data, headers={"Idempotency-Key": "app-42"})
    again = post(base, data, headers={"Idempotency-Key": "app-42"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()[0]["service_request_id"] == again.json()[0]["service_request_id"]
    by_attribute = post(base, {**data, "attribute[client_key]": "app-43"})
    by_attribute_again = post(base, {**data, "attribute[client_key]": "app-43"})
    assert by_attribute_again.json()[0]["service_request_id"] == by_attribute.json()[0]["service_request_id"]
    assert Case.objects.count() == 2 and ServiceRequest.objects.count() == 2


def test_gcj02_coordinates_are_converted(base, api_key, services_catalog):
    from gridgov.geo.coords import to_wgs84

    answer = report(base, api_key, **{"attribute[crs]": "gcj02"})
    case = Case.objects.get(number=answer["service_request_id"])
    expected = to_wgs84(117.005, 36.69, "gcj02")
    assert (case.lon, case.lat) == pytest.approx(expected)


@pytest.mark.parametrize(
    "change, status, words",
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "NOPE"}, 400, "service_code"),
        ({"service_code": "T199"}, 400, "service_code"),
        ({"lat": "north", "long": "117"}, 400, "lat"),
        ({"lat": "95", "long": "117"}, 400, "lat"),
        ({"lat": "", "long": ""}, 400, "location"),
        ({"phone": "call me"}, 400, "phone"),
        ({"description": "<b>x</b>"}, 400, "description"),
    ],
)
def test_bad_posts_get_the_specs_errors_and_create_nothing(base, api_key, services_catalog, change, status, words):
    data = {"api_key": api_key.key, "service_code": "T102", "description": "垃圾", **IN_GRID, **change}
    response = post(base, data, headers={"Accept-Language": "en"})
    assert response.status_code == status, response.text
    errors = response.json()
    assert isinstance(errors, list) and errors[0]["code"] == status
    assert words in " ".join(error["description"] for error in errors)
    assert not Case.objects.exists()


def test_a_point_outside_the_accounts_area_is_forbidden(base, api_key, services_catalog, region_tree):
    api_key.user.scope = region_tree["community1"]
    api_key.user.save()
    data = {"api_key": api_key.key, "service_code": "T102", "description": "垃圾", "lat": "36.69", "long": "117.025"}
    response = post(base, data)
    assert response.status_code == 403 and response.json()[0]["code"] == 403
    assert not Case.objects.exists()


def test_inactive_keys_are_refused(base, api_key, services_catalog):
    api_key.is_active = False
    api_key.save()
    response = post(base, {"api_key": api_key.key, "service_code": "T102", **IN_GRID}, fmt="xml")
    assert response.status_code == 403
    assert ElementTree.fromstring(response.content).find("error/description").text


# --- GET requests, tokens -----------------------------------------------------------------------
def test_client_queries_requests_with_the_specs_filters(base, client, api_key, services_catalog, django_db_blocker):
    garbage = report(base, api_key)["service_request_id"]
    pothole = report(base, api_key, service_code="T201", description="路面坑洼")["service_request_id"]
    assert {r["service_request_id"] for r in client.get_service_requests()} == {garbage, pothole}
    assert [r["service_request_id"] for r in client.get_service_requests(service_code="T201")] == [pothole]
    assert [r["service_request_id"] for r in client.get_service_requests(service_request_id=garbage)] == [garbage]
    both = client.get_service_requests(service_request_id=f"{garbage},{pothole}")
    assert len(both) == 2
    assert len(client.get_service_requests(status="open")) == 2
    assert client.get_service_requests(status="closed") == []
    # Closing a case shows up as closed (rejected counts as closed too).
    from gridgov.cases.services import reject
    from gridgov.org.models import User
    from gridgov.org.roles import Role

    dispatcher = User.objects.create_user("disp", password=None, scope=api_key.user.scope)
    dispatcher.role_assignments.create(role=Role.DISPATCHER)
    reject(Case.objects.get(number=pothole), dispatcher, reason="重复上报")
    assert [r["service_request_id"] for r in client.get_service_requests(status="closed")] == [pothole]
    tomorrow = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    yesterday = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get_service_requests(start_date=tomorrow) == []
    assert len(client.get_service_requests(start_date=yesterday, end_date=tomorrow)) == 2
    assert client.get_service_requests(end_date=yesterday) == []


def test_requests_as_xml_use_the_specs_element_names(base, xml_client, api_key, services_catalog):
    number = report(base, api_key)["service_request_id"]
    request = xml_client.get_service_request(number)
    assert request["service_request_id"] == number and request["status"] == "open"
    root = ElementTree.fromstring(requests.get(f"{base}/requests.xml", timeout=10).content)
    assert root.tag == "service_requests"
    assert [child.tag for child in root.find("request")] == [
        "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
        "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
        "address", "address_id", "zipcode", "lat", "long", "media_url",
    ]


def test_phone_numbers_typed_into_the_text_are_masked(base, client, api_key, services_catalog):
    number = report(base, api_key, description="联系我13912345678")["service_request_id"]
    assert client.get_service_request(number)["description"] == "联系我139****5678"


def test_bad_filters_and_unknown_ids_are_spec_errors(base, api_key, services_catalog):
    bad_date = requests.get(f"{base}/requests.json", params={"start_date": "yesterday"}, timeout=10)
    assert bad_date.status_code == 400 and bad_date.json()[0]["code"] == 400
    bad_status = requests.get(f"{base}/requests.json", params={"status": "pending"}, timeout=10)
    assert bad_status.status_code == 400
    missing = requests.get(f"{base}/requests/NOPE.xml", timeout=10)
    assert missing.status_code == 404 and ElementTree.fromstring(missing.content).tag == "errors"
    assert requests.get(f"{base}/tokens/nope.json", timeout=10).status_code == 404


def test_tokens_lead_to_the_request(base, api_key, services_catalog):
    answer = report(base, api_key)
    response = requests.get(f"{base}/tokens/{answer['token']}.json", timeout=10)
    assert response.json() == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]
    root = ElementTree.fromstring(requests.get(f"{base}/tokens/{answer['token']}.xml", timeout=10).content)
    assert root.find("request/service_request_id").text == answer["service_request_id"]


def test_requests_of_other_channels_are_not_public(base, client, api_key, services_catalog):
    from gridgov.cases.services import create_case

    case, _ = create_case(api_key.user, channel="hotline", description="热线工单", lon=117.005, lat=36.69)
    assert client.get_service_requests() == []
    assert requests.get(f"{base}/requests/{case.number}.json", timeout=10).status_code == 404


def test_error_descriptions_are_chinese_by_default(base, services_catalog):
    response = post(base, {"service_code": "T102", **IN_GRID})
    assert response.json() == [{"code": 403, "description": "提交服务请求需要有效的 api_key。"}]


def test_keys_are_managed_in_the_admin(client, api_key, make_user, region_tree):
    from django.test import Client

    from gridgov.open311.models import ApiKey

    admin = make_user([], username="root", is_superuser=True, is_staff=True)
    browser = Client()
    browser.force_login(admin)
    assert browser.get("/admin/open311/apikey/add/").status_code == 200
    response = browser.post("/admin/open311/apikey/add/", {"name": "网格通", "user": api_key.user.pk, "is_active": "on"})
    assert response.status_code == 302
    created = ApiKey.objects.get(name="网格通")
    assert len(created.key) >= 30 and created.key != api_key.key
