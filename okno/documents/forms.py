"""Forms of the documents pages: a template's upload, a stage rule, our company, a supplier."""

from django import forms
from django.utils.translation import gettext_lazy as _

from okno.contacts.models import Company
from okno.deals.models import Stage
from okno.documents.models import DocumentKind, DocumentTemplate


class TemplateUploadForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=DocumentKind.choices)
    file = forms.FileField(label=_("DOCX file"),
                           help_text=_("A Word document with placeholders such as {{ deal.number }}, "
                                       "{{ our.name }}, {{ deal.amount_in_words }}; lines in "
                                       "{%tr for l in deal.lines %}...{%tr endfor %}."))


class RuleForm(forms.Form):
    stage = forms.ModelChoiceField(label=_("When a deal enters the stage"), queryset=Stage.objects.none())
    template = forms.ModelChoiceField(label=_("Make the document"), queryset=DocumentTemplate.objects.none(),
                                      help_text=_("A supplier order makes one document per supplier of the "
                                                  "deal's lines."))
    send = forms.BooleanField(label=_("and send it by e-mail"), required=False,
                              help_text=_("To the customer; a supplier order to its supplier."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.select_related("pipeline").filter(pipeline__is_active=True)
        self.fields["stage"].label_from_instance = lambda s: f"{s.pipeline.name} → {s.name}"
        self.fields["template"].queryset = DocumentTemplate.objects.filter(is_active=True)


class OurCompanyForm(forms.Form):
    our_company = forms.ModelChoiceField(label=_("Our company"), queryset=Company.objects.all(), required=False,
                                         help_text=_("Its requisites are printed as {{ our.name }}, "
                                                     "{{ our.inn }}, {{ our.settlement_account }}..."))


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    emails = forms.CharField(label=_("E-mails"), required=False,
                             help_text=_("One per line; supplier orders go to the first."),
                             widget=forms.Textarea(attrs={"rows": 2}))
    phones = forms.CharField(label=_("Phones"), required=False, help_text=_("One per line."),
                             widget=forms.Textarea(attrs={"rows": 2}))
    terms = forms.CharField(label=_("Terms"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                            help_text=_("Payment and delivery terms, printed as {{ supplier.terms }}."))
    custom = forms.CharField(label=_("Custom fields"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("One per line as name: value; printed as {{ supplier.custom.name }}."))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


def lines_of(text: str) -> list[str]:
    return [ln.strip() for ln in (text or "").splitlines() if ln.strip()]


def custom_of(text: str) -> dict:
    out = {}
    for ln in lines_of(text):
        key, _sep, value = ln.partition(":")
        out[key.strip()] = value.strip()
    return out
