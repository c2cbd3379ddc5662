"""The facts of the deals and leads a span leaves out (ProcessStatRow): a report sums them instead
of reading those rows; a young row that changes is marked (ProcessStatRowMark) and read live
until the worker computes its facts again; every answer equals the live report's."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from okno.analytics.models_rollup import ProcessStat, ProcessStatMark, ProcessStatRow, ProcessStatRowMark
from okno.analytics.periods import Period
from okno.analytics.process_report import GROUPS, ProcessQuery
from okno.analytics.process_rollup import process_build_day, process_refresh_rows, process_rollup_drain
from okno.analytics.tests.process_factories import deal_path, make_lead
from okno.analytics.tests.test_process_random import _company
from okno.analytics.tests.test_process_rollup import _both
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Deal, Lead
from okno.deals.tests.factories import PipelineFactory

pytestmark = pytest.mark.django_db


def _equal(viewer, day) -> dict:
    for group_by in GROUPS:
        got, want = _both(viewer, ProcessQuery(Period(day, day), group_by=group_by))
        assert got == want, group_by
    return _both(viewer, ProcessQuery(Period(day, day), group_by="source"))[0]


def test_a_young_order_moved_after_the_build_is_read_live_until_its_facts_are_computed_again():
    from okno.deals.deal_services import deal_move_to_stage

    # given today's sums built with a young open order left out, and its facts
    world = _company(random.Random(21))
    admin = world["viewers"][0]
    pipeline = PipelineFactory(name="Заказы сегодня")
    deal = deal_path(pipeline=pipeline, at=timezone.now() - timedelta(hours=1), source="Сайт",
                     responsible=world["people"][0])
    day = timezone.localdate()
    process_build_day(day=day, now=timezone.now(), span=ProcessStat.Span.TODAY)
    fact = ProcessStatRow.objects.get(part="deals", row_id=deal.pk)
    assert (fact.span, fact.deals, fact.processed, fact.source) == ("dayp", 1, 0, "Сайт")
    assert not ProcessStat.objects.filter(span="dayp", source="Сайт").exists()  # not in the sums
    assert _equal(admin, day)["Сайт"]["processed"] == 0

    # when a manager confirms it through the deals' own service
    first = pipeline.stages.order_by("position", "id").first()
    confirmed = pipeline.stages.filter(kind__in=("open", "won")).exclude(pk=first.pk).order_by("position").first()
    deal_move_to_stage(deal=Deal.objects.get(pk=deal.pk), stage=confirmed, actor=world["people"][0])

    # then it is marked (not its day), read live, and counted once
    assert ProcessStatRowMark.objects.filter(part="deals", row_id=deal.pk).exists()
    assert not ProcessStatMark.objects.exists()
    assert _equal(admin, day)["Сайт"]["processed"] == 1
    # and once the worker has computed its facts again, the mark is gone and the facts are new
    process_rollup_drain()
    assert not ProcessStatRowMark.objects.exists()
    assert ProcessStatRow.objects.get(part="deals", row_id=deal.pk).processed == 1
    assert _equal(admin, day)["Сайт"]["processed"] == 1


def test_a_young_lead_reassigned_and_a_deleted_order_count_as_the_live_report():
    from okno.deals.lead_services import lead_reassign

    world = _company(random.Random(22))
    admin, first, second = world["viewers"][0], world["people"][0], world["people"][3]
    now = timezone.now()
    lead = make_lead(contact=make_contact(first_name="Юный"), at=now - timedelta(hours=2), source="Звонок",
                     assignee=first)
    gone = deal_path(pipeline=PipelineFactory(name="Отменённые"), at=now - timedelta(hours=2), source="Звонок")
    day = timezone.localdate()
    process_build_day(day=day, now=now, span=ProcessStat.Span.TODAY)
    assert ProcessStatRow.objects.filter(part="leads", row_id=lead.pk, employee=first).exists()

    # when the young lead is given to another manager, and the order is deleted with a mark
    lead_reassign(actor=admin, leads=[lead.pk], assignee=second)
    assert ProcessStatRowMark.objects.filter(part="leads", row_id=lead.pk).exists()
    Deal.objects.filter(pk=gone.pk).delete()
    ProcessStatRowMark.objects.create(part="deals", row_id=gone.pk)

    # then the report follows at once, and after the worker's refresh too
    for _round in range(2):
        got, want = _both(admin, ProcessQuery(Period(day, day), group_by="employee"))
        assert got == want and got[second.pk]["leads"] >= 1
        assert _equal(admin, day)["Звонок"]["deals"] == 0
        assert process_refresh_rows() in (2, 0)
    assert ProcessStatRow.objects.get(part="leads", row_id=lead.pk).employee_id == second.pk
    assert not ProcessStatRow.objects.filter(part="deals", row_id=gone.pk).exists()
    assert Lead.objects.get(pk=lead.pk).assignee_id == second.pk


def test_a_day_built_again_replaces_its_facts_and_a_head_sees_only_their_own():
    world = _company(random.Random(23))
    now = timezone.now()
    pipeline = PipelineFactory(name="Две сборки")
    for person in world["people"][:4]:
        deal_path(pipeline=pipeline, at=now - timedelta(minutes=90), source="Форма", responsible=person)
    day = timezone.localdate()
    for _build in range(2):
        process_build_day(day=day, now=timezone.now(), span=ProcessStat.Span.TODAY)
    assert ProcessStatRow.objects.filter(part="deals", source="Форма").count() == 4
    for viewer in world["viewers"]:
        for group_by in GROUPS:
            got, want = _both(viewer, ProcessQuery(Period(day, day), group_by=group_by))
            assert got == want, (viewer, group_by)
