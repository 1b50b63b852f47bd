"""The shared pager keeps the list's filters, search and sort when it moves between pages."""

from django.core.paginator import Paginator
from django.template.loader import render_to_string
from django.test import RequestFactory


def render_pager(query, number=2):
    request = RequestFactory().get("/list/", query)
    page = Paginator(list(range(100)), 10).page(number)
    return render_to_string("web/pagination.html", {"page": page}, request=request)


def test_page_links_keep_the_other_query_parameters():
    html = render_pager({"status": "handling", "q": "井盖", "sort": "-created_at", "page": "2"})
    assert 'href="?status=handling&amp;q=%E4%BA%95%E7%9B%96&amp;sort=-created_at&amp;page=1"' in html
    assert 'href="?status=handling&amp;q=%E4%BA%95%E7%9B%96&amp;sort=-created_at&amp;page=3"' in html


def test_page_links_without_filters():
    html = render_pager({}, number=1)
    assert 'href="?page=2"' in html
    assert "page=0" not in html
