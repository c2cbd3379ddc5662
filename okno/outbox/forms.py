"""The outbox's settings forms: labels and help, never JSON in a textarea."""

from django import forms
from django.utils.translation import gettext_lazy as _

from okno.outbox.models import MessageTemplate, SmsProvider
from okno.outbox.services import WEBHOOK_EVENTS


class EndpointForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https",
                         widget=forms.TextInput(attrs={"inputmode": "url", "placeholder": "https://"}),
                         help_text=_("Where Okno POSTs the events, signed per Standard Webhooks."))
    events = forms.MultipleChoiceField(
        label=_("Events"), widget=forms.CheckboxSelectMultiple,
        choices=[("*", _("every event"))] + [(e, e) for e in WEBHOOK_EVENTS])
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    allow_private_network = forms.BooleanField(
        label=_("Allow a private network address"), required=False,
        help_text=_("Only for a receiver inside your own network: lets this endpoint reach private, "
                    "loopback and link-local addresses."))


class TemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["name", "channel", "subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        help_texts = {
            "subject": _("E-mail only. The same fields as the text may be used."),
            "body": _("Django template syntax: {{ deal.title }}, {{ deal.amount }}, {{ deal.currency }}, "
                      "{{ deal.stage }}, {{ deal.pipeline }}, {{ deal.responsible }}, {{ deal.number }}, "
                      "{{ deal.external_id }}, {{ deal.custom.KEY }}, {{ contact.first_name }}, "
                      "{{ contact.last_name }}, {{ contact.middle_name }}, {{ contact.full_name }}, "
                      "{{ contact.phone }}, {{ contact.email }}, {{ company.name }}; {% if %} and {% for %}."),
        }


class SmsProviderForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._saved_password = self.instance.password

    def clean_password(self) -> str:
        return self.cleaned_data.get("password") or self._saved_password

    base_url = forms.URLField(label=_("API address"), max_length=500, required=False, assume_scheme="https",
                              widget=forms.TextInput(attrs={"inputmode": "url"}),
                              help_text=_("Leave empty for the provider's own address."))

    class Meta:
        model = SmsProvider
        fields = ["kind", "name", "api_key", "login", "password", "sender", "base_url", "is_default", "is_active"]
        # The stored password is never sent back to the browser; left empty, it is kept.
        widgets = {"password": forms.PasswordInput(render_value=False)}
        help_texts = {
            "api_key": _("SMS.ru: your api_id. SMSC.ru: an API key, in place of login and password."),
            "login": _("SMSC.ru only."),
            "password": _("SMSC.ru only. Leave empty to keep the saved one."),
            "sender": _("A sender name registered with the provider (up to 11 characters); empty: the default."),
            "is_default": _("SMS go out through the default provider."),
        }
