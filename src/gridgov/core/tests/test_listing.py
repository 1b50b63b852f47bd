from django.http import QueryDict

from gridgov.core.listing import list_query_strings


def test_export_keeps_search_filter_and_sort_but_not_the_page():
    export, sort = list_query_strings(QueryDict("q=垃圾&status=open&status=closed&sort=-created&page=3"))
    assert QueryDict(export) == QueryDict("q=垃圾&status=open&status=closed&sort=-created")
    assert QueryDict(sort) == QueryDict("q=垃圾&status=open&status=closed")


def test_the_request_parameters_are_left_as_they_were():
    params = QueryDict("sort=number&page=2")
    list_query_strings(params)
    assert params.urlencode() == "sort=number&page=2"
