"""Form widgets of the case list's filter form that render in Python.

Django renders every <option> and checkbox through its template engine; with the few
hundred categories of the catalogue that took more time than the database work of the
whole page. These widgets produce the same HTML with plain string building.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _


def _option(option):
    selected = " selected" if option["selected"] else ""
    return format_html('<option value="{}"{}>{}</option>', option["value"], mark_safe(selected), option["label"])


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        body = []
        for group_name, options, _index in widget["optgroups"]:
            html = mark_safe("".join(_option(option) for option in options))
            body.append(format_html('<optgroup label="{}">{}</optgroup>', group_name, html) if group_name else html)
        return format_html("<select{}>{}</select>", flatatt({**widget["attrs"], "name": name}), mark_safe("".join(body)))


class FastCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes, each inside its label; `selected_labels` feeds the drop-down's summary."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        boxes = (
            (flatatt({**option["attrs"], "type": "checkbox", "name": name, "value": option["value"]}), option["label"])
            for _group, options, _index in widget["optgroups"]
            for option in options
        )
        return format_html_join("", "<label><input{}> {}</label>", boxes)

    def selected_labels(self, value):
        chosen = {str(item) for item in (value or [])}
        return [str(label) for key, label in self.choices if str(key) in chosen]


class FastYesNo(FastSelect):
    """All / yes / no for a BooleanFilter (NullBooleanField)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=[("", _("All")), ("true", _("Yes")), ("false", _("No"))])

    def format_value(self, value):
        return [{True: "true", False: "false", "true": "true", "false": "false"}.get(value, "")]
