from django.http import QueryDict
from django.test import RequestFactory

from gridgov.core.listing import query_without


def test_drops_only_the_named_parameters():
    request = RequestFactory().get("/", {"q": "垃圾", "status": ["open", "closed"], "sort": "-created", "page": "3"})
    assert QueryDict(query_without(request, "page")) == QueryDict("q=垃圾&status=open&status=closed&sort=-created")
    assert QueryDict(query_without(request, "page", "sort")) == QueryDict("q=垃圾&status=open&status=closed")


def test_the_request_parameters_are_left_as_they_were():
    request = RequestFactory().get("/?sort=number&page=2")
    query_without(request, "page", "sort")
    assert request.GET.urlencode() == "sort=number&page=2"
