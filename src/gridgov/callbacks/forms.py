from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import CallbackResult


class ResultForm(forms.Form):
    result = forms.ChoiceField(label=pgettext_lazy("callback", "Result"), choices=CallbackResult.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=pgettext_lazy("callback", "Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    reopen = forms.BooleanField(label=_("Reopen the case (back to dispatch)"), required=False)
    reason = forms.CharField(label=_("Reason for reopening"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def add_domain_error(self, error):
        """Show a service's refusal beside the fields it names (or on top)."""
        named = False
        for name, messages in error.fields.items():
            if name in self.fields:
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(name, str(message))
                named = True
        if not named:
            self.add_error(None, str(error.message))
