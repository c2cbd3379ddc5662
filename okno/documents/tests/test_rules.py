"""A deal entering "Confirmed" makes one supplier order per supplier of its lines, and sends each
to its supplier when the rule says so; the same entry handled twice makes nothing twice."""

from okno.deals.deal_services import deal_move_to_stage
from okno.deals.models import Stage
from okno.documents.drains import documents_jobs_drain
from okno.documents.models import Document, DocumentJob, DocumentKind, DocumentRule
from okno.documents.tests.factories import make_deal_with_lines, make_supplier, make_template
from okno.outbox.models import OutboxMessage


def test_confirmed_makes_and_sends_one_supplier_order_per_supplier(admin_user, fake_pdf):
    # given a rule on the store pipeline's "Подтверждён" stage and an order with lines of two suppliers
    a, b = make_supplier("Альфа", "a@supplier.ru"), make_supplier("Бета", "b@supplier.ru")
    deal = make_deal_with_lines(suppliers=[a, b, a, None])
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    template = make_template(kind=DocumentKind.SUPPLIER_ORDER, user=admin_user, name="Заказ поставщику")
    DocumentRule.objects.create(stage=confirmed, template=template, send=True)
    # when the deal is moved there and the worker drains the job
    deal_move_to_stage(deal=deal, stage=confirmed, actor=admin_user)
    assert DocumentJob.objects.filter(status=DocumentJob.Status.PENDING).count() == 1
    assert documents_jobs_drain() == 1
    # then one supplier order per supplier, each e-mailed to its supplier
    orders = Document.objects.filter(deal=deal).order_by("number")
    assert [(d.supplier.name, d.number) for d in orders] == [("Альфа", 1), ("Бета", 2)]
    assert sorted(m.payload["to"] for m in OutboxMessage.objects.all()) == ["a@supplier.ru", "b@supplier.ru"]
    assert DocumentJob.objects.get().status == DocumentJob.Status.DONE


def test_a_job_run_twice_makes_nothing_twice(admin_user, fake_pdf):
    from okno.documents.drains import rule_job_run

    a = make_supplier("Альфа", "a@supplier.ru")
    deal = make_deal_with_lines(suppliers=[a])
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    template = make_template(kind=DocumentKind.SUPPLIER_ORDER, user=admin_user)
    DocumentRule.objects.create(stage=confirmed, template=template, send=True)
    deal_move_to_stage(deal=deal, stage=confirmed, actor=admin_user)
    job = DocumentJob.objects.get()
    rule_job_run(job)
    rule_job_run(job)
    assert Document.objects.count() == 1 and OutboxMessage.objects.count() == 1


def test_another_stage_makes_nothing(admin_user, fake_pdf):
    deal = make_deal_with_lines(suppliers=[make_supplier()])
    confirmed = Stage.objects.get(pipeline=deal.pipeline, name="Подтверждён")
    DocumentRule.objects.create(stage=confirmed, template=make_template(user=admin_user))
    paused = Stage.objects.get(pipeline=deal.pipeline, name="Пауза")
    deal_move_to_stage(deal=deal, stage=paused, actor=admin_user)
    assert not DocumentJob.objects.exists()
