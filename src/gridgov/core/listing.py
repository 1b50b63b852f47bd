"""Query strings shared by the list pages (search, filter, sort, page, .xlsx export)."""


def list_query_strings(params):
    """(export, sort) query strings of a list page's GET `params`.

    export: everything but the page, so the .xlsx holds the list as searched, filtered and
    sorted; sort: also without `sort`, for the column headers to add their own order.
    """
    params = params.copy()
    params.pop("page", None)
    export = params.urlencode()
    params.pop("sort", None)
    return export, params.urlencode()
