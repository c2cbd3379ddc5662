"""Stage rules ("on Confirmed, make and send the supplier orders") and whose requisites are ours."""

from django.db import transaction

from okno.contacts.models import Company
from okno.core.access import require_admin
from okno.deals.models import Stage
from okno.documents.models import DocumentRule, DocumentSettings, DocumentTemplate
from okno.people.models import User


def document_rule_create(*, stage: Stage, template: DocumentTemplate, send: bool, actor: User,
                         message_template=None) -> DocumentRule:
    """When a deal enters `stage`, make a document from `template` (and e-mail it when `send`);
    the same stage and template twice is the one rule, updated."""
    require_admin(actor)
    rule, _created = DocumentRule.objects.update_or_create(
        stage=stage, template=template,
        defaults={"send": send, "message_template": message_template, "is_active": True})
    return rule


def document_rule_delete(*, rule: DocumentRule, actor: User) -> None:
    require_admin(actor)
    rule.delete()


@transaction.atomic
def our_company_set(*, company: Company | None, actor: User) -> DocumentSettings:
    """The company whose requisites templates print as `our`."""
    require_admin(actor)
    row, _created = DocumentSettings.objects.update_or_create(pk=1, defaults={"our_company": company})
    return row
