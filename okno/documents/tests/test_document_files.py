"""A document's files live as long as its row: a rollback of the document's own transaction, or
of an outer one (a robot run's savepoint), removes the DOCX and PDF it stored; a commit keeps them."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from okno.contacts.tests.factories import make_contact
from okno.deals.deal_services import deal_move_to_stage
from okno.deals.models import Stage
from okno.documents.models import Document
from okno.documents.robot_actions import SEND
from okno.documents.services import document_generate
from okno.documents.tests.factories import make_deal_with_lines, make_template
from okno.outbox import services as outbox_services
from okno.outbox.models import OutboxMessage
from okno.robots import rule_cache
from okno.robots.drains import robot_runs_drain
from okno.robots.models import Robot, RobotRun


class Boom(Exception):
    pass


def _document_files() -> list[str]:
    """Every generated document's file in storage (not the templates' files)."""
    root = Path(settings.MEDIA_ROOT) / "documents"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and p.relative_to(root).parts[0] != "templates")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_document_leaves_no_file_and_a_committed_one_keeps_both(admin_user, fake_pdf):
    # given a deal and an invoice template
    deal = make_deal_with_lines()
    template = make_template(user=admin_user)
    # when a document is made (DOCX and PDF) inside a transaction that then fails
    with pytest.raises(Boom), transaction.atomic():
        lost = document_generate(deal=deal, template=template, user=admin_user)
        names = [lost.docx.name, lost.pdf.name]
        assert all(default_storage.exists(n) for n in names)
        raise Boom
    # then neither its row nor its files stay
    assert not Document.objects.exists()
    assert not any(default_storage.exists(n) for n in names) and _document_files() == []
    # when the next document is made and committed
    kept = document_generate(deal=deal, template=template, user=admin_user)
    # then it takes the number given back, under the same names (no orphan pushed it aside), and keeps both files
    assert kept.number == 1 and [kept.docx.name, kept.pdf.name] == names
    assert all(default_storage.exists(n) for n in names)
    # and a later, unrelated rollback leaves them alone
    with pytest.raises(Boom), transaction.atomic():
        raise Boom
    assert all(default_storage.exists(n) for n in names)


def test_a_failed_robot_run_leaves_no_document_file_and_its_retry_makes_one(admin_user, fake_pdf, monkeypatch):
    # given a "make and send the invoice" robot on Подтверждён, and an outbox that fails once
    deal = make_deal_with_lines(contact=make_contact(first_name="Иван", emails=["ivan@example.ru"]))
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    template = make_template(user=admin_user)
    Robot.objects.create(pipeline=deal.pipeline, stage=confirmed, kind=Robot.Kind.ACTION,
                         trigger=Robot.Trigger.ENTER, action=SEND, action_params={"template_id": template.pk})
    rule_cache.forget()
    real_email = outbox_services.outbox_email

    def failing(**kwargs):
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr(outbox_services, "outbox_email", failing)
    deal_move_to_stage(deal=deal, stage=confirmed, actor=admin_user)
    # when the run fails after the document was made (its savepoint rolls back)
    robot_runs_drain()
    # then nothing of the document stays: no row, no DOCX, no PDF
    run = RobotRun.objects.get(deal=deal)
    assert run.status == RobotRun.Status.PENDING and "the outbox is down" in run.error
    assert not Document.objects.exists() and _document_files() == []
    # when the outbox works again and the run is retried
    monkeypatch.setattr(outbox_services, "outbox_email", real_email)
    RobotRun.objects.filter(pk=run.pk).update(run_after=run.created_at)
    robot_runs_drain()
    # then one document with both files, e-mailed once
    document = Document.objects.get()
    assert document.number == 1 and sorted(_document_files()) == sorted(
        n.removeprefix("documents/") for n in (document.docx.name, document.pdf.name))
    assert OutboxMessage.objects.get().payload["to"] == "ivan@example.ru"
