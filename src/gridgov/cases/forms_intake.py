"""The intake form (受理登记) for phone calls and the walk-in window (一窗受理).

The form only checks what the page can say beside a field; the service
`gridgov.cases.services.create_case` remains the authority and its ValidationFailed fields
are mapped back onto the form.
"""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.models import Category, Priority
from gridgov.core.errors import ValidationFailed
from gridgov.geo.coords import CRS_CHOICES, to_wgs84

from .models import Channel

# Channels a person at the desk registers; machine channels (video alarms, IoT) arrive by API.
INTAKE_CHANNELS = [Channel.HOTLINE, Channel.WINDOW, Channel.RESIDENT, Channel.GRID_PATROL, Channel.PROACTIVE]
CRS_LABELS = {"wgs84": _("WGS84 (GPS)"), "gcj02": _("GCJ-02 (Amap, Tencent)"), "bd09": _("BD-09 (Baidu)")}
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]{3,18}[0-9]$")


def normalize_phone(value):
    """Digits (and a leading +) only, so lookups match however the number was typed."""
    value = (value or "").strip()
    prefix = "+" if value.startswith("+") else ""
    return prefix + re.sub(r"\D", "", value)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Zero or more photos; type and size are checked by the service (store_photo)."""

    widget = MultipleFileInput(attrs={"accept": "image/*"})

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(MultiplePhotoField, self).clean(item, initial) for item in files if item]


class IntakeForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(channel.value, channel.label) for channel in INTAKE_CHANNELS],
        initial=Channel.HOTLINE,
        error_messages={"required": _("Choose how the report came in."), "invalid_choice": _("Choose a valid channel.")},
    )
    reporter_name = forms.CharField(label=_("Reporter name"), max_length=50, required=False)
    reporter_phone = forms.CharField(
        label=_("Reporter phone"),
        max_length=30,
        required=False,
        error_messages={"max_length": _("The phone number is too long.")},
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.filter(is_active=True, parent__isnull=False),
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose a category: type a few characters and pick one from the list."),
            "invalid_choice": _("This category does not exist or is no longer active."),
        },
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Category default"))] + list(Priority.choices),
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": _("Choose a valid priority.")},
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Describe the problem."),
            "max_length": _("At most %(limit_value)d characters (now %(show_value)d)."),
        },
    )
    address = forms.CharField(
        label=_("Address"), max_length=200, required=False, error_messages={"max_length": _("The address is too long.")}
    )
    lon = forms.CharField(label=_("Longitude"), max_length=30, required=False)
    lat = forms.CharField(label=_("Latitude"), max_length=30, required=False)
    crs = forms.ChoiceField(
        label=_("Coordinate system"),
        choices=[(code, CRS_LABELS[code]) for code in CRS_CHOICES],
        initial="wgs84",
        error_messages={"invalid_choice": _("Choose a valid coordinate system.")},
    )
    photos = MultiplePhotoField(label=_("Photos"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def clean_reporter_phone(self):
        phone = self.cleaned_data["reporter_phone"].strip()
        if phone and not PHONE_PATTERN.match(phone):
            raise forms.ValidationError(_("Enter a valid phone number (digits only, e.g. 13800138000)."))
        return normalize_phone(phone)

    def clean(self):
        data = super().clean()
        lon, lat = data.get("lon", "").strip(), data.get("lat", "").strip()
        if bool(lon) != bool(lat):
            missing = "lat" if lon else "lon"
            self.add_error(missing, _("Enter both longitude and latitude, or neither."))
        elif lon and "crs" in data:
            self._check_point(lon, lat, data["crs"])
        elif not lon and not data.get("address", "").strip() and "address" not in self.errors:
            self.add_error(
                "address", _("Give the location: click the map, type the coordinates or enter an address.")
            )
        return data

    def _check_point(self, lon, lat, crs):
        try:
            to_wgs84(lon, lat, crs)
        except ValidationFailed as error:
            add_domain_error(self, error)

    def service_kwargs(self):
        """The keyword arguments of create_case, from cleaned data."""
        data = self.cleaned_data
        has_point = bool(data["lon"].strip())
        return {
            "channel": data["channel"],
            "description": data["description"],
            "category": data["category"],
            "priority": data["priority"],
            "lon": data["lon"].strip() if has_point else None,
            "lat": data["lat"].strip() if has_point else None,
            "crs": data["crs"],
            "address": data["address"],
            "reporter_name": data["reporter_name"],
            "reporter_phone": data["reporter_phone"],
            "photos": data["photos"],
            "idempotency_key": data["idempotency_key"],
        }


def add_domain_error(form, error):
    """Show a service's ValidationFailed beside the fields it names (else at the top)."""
    if not error.fields:
        form.add_error(None, str(error.message))
        return
    for name, messages in error.fields.items():
        target = name if name in form.fields else None
        for message in messages if isinstance(messages, (list, tuple)) else [messages]:
            form.add_error(target, str(message))

