"""The board's fast path (one aggregate grouped by stage + a page per column) equals the plain
one (every visible deal read and counted in Python), for every persona and with filters."""

import random
from decimal import Decimal

from okno.contacts.tests.factories import make_contact
from okno.deals.selectors import DealFilters, board_columns, deals_visible, stage_page
from okno.deals.tests.factories import DealFactory, PipelineFactory
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def _plain(pipeline, user, filters: DealFilters):
    deals = sorted(filters.apply(deals_visible(user=user).filter(pipeline=pipeline)),
                   key=lambda d: (d.created_at, d.pk), reverse=True)
    return {s.pk: [d for d in deals if d.stage_id == s.pk] for s in pipeline.stages.all()}


def test_board_equals_counting_every_visible_deal(db):
    # given: two departments, deals with and without contacts, random stages, amounts, people
    rnd = random.Random(12)
    sales, support = DepartmentFactory(share_contacts=True), DepartmentFactory(share_contacts=False)
    people = [UserFactory(department=sales), UserFactory(department=sales), UserFactory(department=support),
              UserFactory(department=support, role=User.Role.HEAD), UserFactory(role=User.Role.ADMIN, department=None)]
    contacts = [make_contact(actor=rnd.choice(people[:4]), first_name=f"К{i}") for i in range(8)]
    pipeline = PipelineFactory()
    stages = list(pipeline.stages.all())
    for i in range(120):
        responsible = rnd.choice(people[:4] + [None])
        DealFactory(pipeline=pipeline, stage=rnd.choice(stages), responsible=responsible,
                    contact=rnd.choice(contacts + [None, None]), title=f"Сделка {i % 7}",
                    amount=Decimal(rnd.randint(0, 10 ** 6)) / 100)
    for user in people:
        for filters in (DealFilters(), DealFilters(responsible_id=people[0].pk), DealFilters(q="Сделка 3")):
            # when
            columns = board_columns(pipeline=pipeline, user=user, per_column=5, filters=filters)
            # then
            plain = _plain(pipeline, user, filters)
            for column in columns:
                expected = plain[column.stage.pk]
                assert column.count == len(expected)
                assert column.total == sum((d.amount for d in expected), Decimal("0.00"))
                assert [d.pk for d in column.deals] == [d.pk for d in expected[:5]]
                # and paging through the column by cursor gives the rest, in order, once
                seen, after = [d.pk for d in column.deals], column.deals[-1].pk if column.deals else None
                while after is not None and column.has_more:
                    page = stage_page(stage=column.stage, user=user, after=after, per_page=4, filters=filters)
                    seen += [d.pk for d in page.deals]
                    after = page.next_after
                    if not page.has_more:
                        break
                assert seen == [d.pk for d in expected]
