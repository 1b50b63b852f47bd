"""Forms of the actions on the case page, one per service function.

A form checks only what it can say beside a field (required, number, choice); the service
stays the authority, and its DomainError fields are put back on the form. Every form carries
the case `version` it was rendered with, sent as `expected_version`, so an action on a case
that someone else changed in the meantime is refused instead of applied to the new state.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from gridgov.catalog.models import Category, Priority, TimeUnit
from gridgov.geo.models import Region
from gridgov.org.models import Department

from . import services
from .models import CaseRequest, Rating, RequestKind, RequestStatus


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Zero or more photos; type and size are checked by the service (photos.store_photo)."""

    widget = MultipleFileInput(attrs={"accept": "image/*"})

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(PhotosField, self).clean(item, initial) for item in files if item]


def note_field(label=_("Note"), required=False):
    return forms.CharField(label=label, required=required, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CaseActionForm(forms.Form):
    """Base: `action` names it in available_actions(); `perform` calls the service."""

    action = ""
    title = ""
    submit_label = _("Submit")
    danger = False
    # Asked in the browser before the form posts (web/app.js, data-confirm): actions that end
    # or hand away a case.
    confirm = ""
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, case, user, **kwargs):
        self.case = case
        self.user = user
        # Many action forms share a page: unique ids, plain field names.
        kwargs.setdefault("auto_id", f"id_{self.action}_%s")
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = case.version

    @property
    def expected_version(self):
        return self.cleaned_data["version"]

    def perform(self):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def call(self, service, *args, **kwargs):
        return service(self.case, self.user, *args, expected_version=self.expected_version, **kwargs)

    def add_domain_error(self, error):
        """Put a DomainError's messages beside the fields they name (else on top of the form)."""
        placed = False
        for name, messages in error.fields.items():
            target = name if name in self.fields else None
            for message in messages if isinstance(messages, (list, tuple)) else [messages]:
                self.add_error(target, str(message))
                placed = True
        if not placed:
            self.add_error(None, str(error.message))


class SubcategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.parent.name} / {obj.name}" if obj.parent_id else obj.name


class AcceptForm(CaseActionForm):
    action = "accept"
    title = _("Accept the case")
    submit_label = _("Accept")
    category = SubcategoryField(label=_("Sub-category"), queryset=Category.objects.none(), required=False)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int, required=False)
    note = note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = (
            Category.objects.filter(parent__isnull=False, is_active=True).select_related("parent").order_by("code")
        )
        self.fields["category"].initial = self.case.category_id
        self.fields["priority"].initial = self.case.priority
        if self.case.category_id is None:
            self._suggest_category()

    def _suggest_category(self):
        """Preselect the classifier's best 小类 and list its top 3 (gridgov.triage)."""
        from gridgov.triage.classifier import category_hint

        category_id, hint = category_hint(self.case.description)
        self.fields["category"].initial = category_id
        if hint:
            self.fields["category"].help_text = _("Suggested: %(hint)s") % {"hint": hint}

    def perform(self):
        data = self.cleaned_data
        # Only a changed category is sent: the service resets the priority to a new category's default.
        category = data["category"] if data["category"] and data["category"].pk != self.case.category_id else None
        return self.call(services.accept, note=data["note"], category=category, priority=data["priority"] or None)


class RejectForm(CaseActionForm):
    action = "reject"
    title = _("Do not accept")
    submit_label = _("Do not accept")
    danger = True
    confirm = _("Do not accept this case? It ends as not accepted and leaves every queue.")
    reason = note_field(_("Reason"), required=True)

    def perform(self):
        return self.call(services.reject, reason=self.cleaned_data["reason"])


class PlaceForm(CaseActionForm):
    action = "place"
    title = _("Place in a grid")
    submit_label = _("Place")
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=Region.objects.none())
    note = note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = Region.objects.restrict(self.user, "view").grids()

    def perform(self):
        return self.call(services.place, grid=self.cleaned_data["grid"], note=self.cleaned_data["note"])


class DispatchForm(CaseActionForm):
    action = "dispatch"
    title = _("Dispatch")
    submit_label = _("Dispatch")
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    note = note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.restrict(self.user, "view").filter(is_active=True)
        self._suggest_department()

    def _suggest_department(self):
        """The 小类's default department weighed against where such cases went (gridgov.triage)."""
        from gridgov.triage.classifier import department_hint

        department_id, confidence = department_hint(self.case.category)
        if department_id is not None:
            self.fields["department"].initial = department_id
            self.fields["department"].help_text = _("Suggested with %(percent)d%% confidence") % {
                "percent": round(confidence * 100)
            }

    def perform(self):
        return self.call(services.dispatch, department=self.cleaned_data["department"], note=self.cleaned_data["note"])


class SignForm(CaseActionForm):
    action = "sign"
    title = _("Sign for the case")
    submit_label = _("Sign")

    def perform(self):
        return self.call(services.sign)


class ReturnForm(CaseActionForm):
    action = "return"
    title = _("Return to the centre")
    submit_label = _("Return")
    danger = True
    confirm = _("Return this case to the centre? It leaves your department's queue.")
    reason = note_field(_("Reason"), required=True)

    def perform(self):
        return self.call(services.return_case, reason=self.cleaned_data["reason"])


class HandleForm(CaseActionForm):
    action = "handle"
    title = _("Report handling")
    submit_label = _("Submit handling report")
    note = note_field(_("What was done"), required=True)
    photos = PhotosField(label=_("Photos"), required=False)

    def perform(self):
        return self.call(services.submit_handling, note=self.cleaned_data["note"], photos=self.cleaned_data["photos"])


class VerifyForm(CaseActionForm):
    action = "verify"
    title = _("Verify on site")
    submit_label = _("Submit verification")
    passed = forms.TypedChoiceField(
        label=_("Result"),
        choices=[("1", _("Passed: the problem is solved")), ("0", _("Failed: send back for rework"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = note_field()
    photos = PhotosField(label=_("Photos"), required=False)

    def perform(self):
        data = self.cleaned_data
        return self.call(services.verify, passed=data["passed"], note=data["note"], photos=data["photos"])


class CloseForm(CaseActionForm):
    action = "close"
    title = _("Close the case")
    submit_label = _("Close case")
    confirm = _("Close this case?")
    note = note_field()

    def perform(self):
        return self.call(services.close, note=self.cleaned_data["note"])


class RateForm(CaseActionForm):
    action = "rate"
    title = _("Record the caller's rating")
    submit_label = _("Record rating")
    rating = forms.TypedChoiceField(label=_("Rating"), choices=Rating.choices, coerce=int, widget=forms.RadioSelect)
    comment = note_field(_("Comment"))

    def perform(self):
        return self.call(services.rate, rating=self.cleaned_data["rating"], comment=self.cleaned_data["comment"])


class RequestExtensionForm(CaseActionForm):
    action = "request_extension"
    title = _("Request an extension")
    submit_label = _("Send request")
    extra_value = forms.IntegerField(label=_("Extra time"), min_value=1, max_value=1000)
    extra_unit = forms.ChoiceField(label=_("Unit"), choices=TimeUnit.choices, initial=TimeUnit.WORKING_DAYS)
    reason = note_field(_("Reason"), required=True)

    def perform(self):
        data = self.cleaned_data
        return self.call(
            services.request_extension, reason=data["reason"], extra_value=data["extra_value"], extra_unit=data["extra_unit"]
        )


class RequestParkForm(CaseActionForm):
    action = "request_park"
    title = _("Request parking")
    submit_label = _("Send request")
    reason = note_field(_("Reason"), required=True)

    def perform(self):
        return self.call(services.request_park, reason=self.cleaned_data["reason"])


class DecideRequestForm(CaseActionForm):
    """Approve or refuse the pending request of `kind` (the shift lead's decision)."""

    kind = ""
    service_name = ""
    submit_label = _("Decide")
    request = forms.ModelChoiceField(queryset=CaseRequest.objects.none(), widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Approve")), ("0", _("Refuse"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    note = note_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pending = CaseRequest.objects.filter(case=self.case, kind=self.kind, status=RequestStatus.PENDING)
        self.fields["request"].queryset = pending
        self.pending_request = next(iter(pending.select_related("requested_by")), None) if not self.is_bound else None
        if self.pending_request is not None:
            self.fields["request"].initial = self.pending_request.pk

    def perform(self):
        data = self.cleaned_data
        service = getattr(services, self.service_name)
        return service(data["request"], self.user, approve=data["approve"], note=data["note"], expected_version=self.expected_version)


class DecideExtensionForm(DecideRequestForm):
    action = "decide_extension"
    kind = RequestKind.EXTENSION
    service_name = "decide_extension"
    title = _("Decide on the extension request")


class DecideParkForm(DecideRequestForm):
    action = "decide_park"
    kind = RequestKind.PARK
    service_name = "decide_park"
    title = _("Decide on the parking request")


class UnparkForm(CaseActionForm):
    action = "unpark"
    title = _("Resume the parked case")
    submit_label = _("Resume")
    note = note_field()

    def perform(self):
        return self.call(services.unpark, note=self.cleaned_data["note"])


class SuperviseForm(CaseActionForm):
    action = "supervise"
    title = _("Supervise")
    submit_label = _("Supervise")
    danger = True
    note = note_field(_("Instruction"), required=True)

    def perform(self):
        return self.call(services.supervise, note=self.cleaned_data["note"])


ACTION_FORMS = {
    form.action: form
    for form in (
        AcceptForm,
        RejectForm,
        PlaceForm,
        DispatchForm,
        SignForm,
        ReturnForm,
        HandleForm,
        VerifyForm,
        CloseForm,
        RateForm,
        RequestExtensionForm,
        DecideExtensionForm,
        RequestParkForm,
        DecideParkForm,
        UnparkForm,
        SuperviseForm,
    )
}
