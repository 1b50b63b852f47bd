"""Query strings shared by the list pages (search, filter, sort, page, .xlsx export)."""


def query_without(request, *names):
    """The request's query string without the parameters `names`: e.g. without "page" for
    the .xlsx export (the list as searched, filtered and sorted), without "page" and "sort"
    for column headers that add their own order."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()
