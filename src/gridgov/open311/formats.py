"""Open311 output: the same data as XML (required by the spec) or JSON, and spec errors."""

import json
from xml.etree import ElementTree

from django.http import HttpResponse

CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
# The element name of each list item, by the name of its list (GeoReport v2 spec).
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def render(data, fmt, root, status=200):
    """`data` as JSON, or as XML under the element `root` (lists use ITEM_NAMES)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        element = ElementTree.Element(root)
        _fill(element, root, data)
        body = '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(element, encoding="unicode")
    return HttpResponse(body.encode(), status=status, content_type=CONTENT_TYPES[fmt])


def _fill(element, name, value):
    if isinstance(value, dict):
        for key, child in value.items():
            sub = ElementTree.SubElement(element, key)
            _fill(sub, key, child)
    elif isinstance(value, list):
        item_name = ITEM_NAMES[name]
        for item in value:
            _fill(ElementTree.SubElement(element, item_name), item_name, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)


def errors(fmt, status, *descriptions):
    """The spec's error answer: a list of {code, description}."""
    return render([{"code": status, "description": str(text)} for text in descriptions], fmt, "errors", status)
