"""The demo's documents seed: our requisites, two templates, suppliers on the store's lines, the
confirmed-stage rule and two invoices waiting for their PDF."""

from okno.deals.models import DealLineItem, Supplier
from okno.deals.tests.factories import DealFactory, PipelineFactory
from okno.demo.documents import documents_seed
from okno.demo.process import STORE
from okno.documents.models import Document, DocumentRule, DocumentSettings, DocumentTemplate


def test_the_demo_seeds_templates_suppliers_and_the_rule(admin_user):
    pipeline = PipelineFactory(name=STORE)
    for _ in range(3):
        deal = DealFactory(pipeline=pipeline)
        DealLineItem.objects.create(deal=deal, name="Диван")
    made = documents_seed(admin=admin_user, seed=1, say=lambda _m: None)
    assert made == 2
    assert set(DocumentTemplate.objects.values_list("kind", flat=True)) == {"invoice", "supplier_order"}
    assert Supplier.objects.count() == 4
    assert not DealLineItem.objects.filter(supplier__isnull=True).exists()
    assert DocumentRule.objects.get().stage.name == "Подтверждён"
    assert DocumentSettings.objects.get().our_company.inn
    assert Document.objects.filter(pdf_status="pending").count() == 2
