"""The kanban board: columns with counts and sums, pages of cards, moving a deal by drop,
filters, and another department's deal kept out of sight."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from okno.contacts.tests.factories import make_contact
from okno.deals.models import Deal
from okno.deals.tests.factories import DealFactory, PipelineFactory, PipelineFieldFactory, make_deal, stage_of
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def team(db):
    """A manager and a colleague of one department, an outsider of another, one pipeline."""
    sales = DepartmentFactory(share_contacts=True)
    other = DepartmentFactory()
    return {
        "manager": UserFactory(department=sales, language="ru"),
        "colleague": UserFactory(department=sales, first_name="Олег"),
        "outsider": UserFactory(department=other, language="en"),
        "pipeline": PipelineFactory(name="Заказы"),
    }


def test_board_shows_columns_in_order_with_count_and_sum_in_russian_money(team):
    # given two deals in the first stage and one in the third
    pipeline, manager = team["pipeline"], team["manager"]
    first, third = stage_of(pipeline), stage_of(pipeline, nth=1)
    DealFactory(pipeline=pipeline, stage=first, responsible=manager, amount=Decimal("1000.00"))
    DealFactory(pipeline=pipeline, stage=first, responsible=manager, amount=Decimal("500.00"))
    DealFactory(pipeline=pipeline, stage=third, responsible=manager, amount=Decimal("250.50"), title="Третий")
    # when the manager opens the board in Russian
    response = client_for(manager).get(reverse("deals:board", args=[pipeline.pk]), HTTP_ACCEPT_LANGUAGE="ru")
    # then columns are the stages in order, with counts and formatted sums
    assert response.status_code == 200
    columns = response.context["columns"]
    assert [c.stage.name for c in columns] == ["Новый", "Пауза", "Подтверждён", "Выполнен", "Отменён"]
    assert [c.count for c in columns] == [2, 0, 1, 0, 0]
    html = response.content.decode()
    assert "1\xa0500,00\xa0₽" in html
    assert "250,50\xa0₽" in html
    assert "Третий" in html


def test_board_column_loads_in_pages_of_twenty(team):
    # given 45 deals in one stage
    pipeline, manager = team["pipeline"], team["manager"]
    stage = stage_of(pipeline)
    DealFactory.create_batch(45, pipeline=pipeline, stage=stage, responsible=manager)
    client = client_for(manager)
    # when the board opens
    response = client.get(reverse("deals:board", args=[pipeline.pk]))
    # then the column shows 20 cards of 45 and a "load more" link
    column = response.context["columns"][0]
    assert column.count == 45 and len(column.deals) == 20 and column.has_more
    assert reverse("deals:column", args=[pipeline.pk, stage.pk]) in response.content.decode()
    # when the next pages are asked for, following each page's cursor
    seen = {d.pk for d in column.deals}
    after = column.deals[-1].pk
    pages = 0
    while after:
        page = client.get(reverse("deals:column", args=[pipeline.pk, stage.pk]), {"after": after})
        assert page.status_code == 200
        seen |= {d.pk for d in page.context["deals"]}
        after = page.context["next_after"]
        pages += 1
    # then every deal came exactly once over three pages in all
    assert pages == 2 and seen == set(Deal.objects.filter(stage=stage).values_list("pk", flat=True))


def test_drop_moves_the_deal_and_answers_the_card_and_new_sums(team):
    # given a deal in the first stage
    pipeline, manager = team["pipeline"], team["manager"]
    deal = DealFactory(pipeline=pipeline, responsible=manager, amount=Decimal("1500.00"))
    target = stage_of(pipeline, nth=1)
    # when it is dropped on the third column
    response = client_for(manager).post(reverse("deals:move", args=[deal.pk]), {"stage": target.pk},
                                        HTTP_ACCEPT="application/json")
    # then it moved through the service and the answer carries the card and the columns
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == target
    assert deal.stage_changes.filter(to_stage=target, actor=manager, via="user").exists()
    body = response.json()
    assert f'id="deal-card-{deal.pk}"' in body["card"]
    by_stage = {c["stage"]: c for c in body["columns"]}
    assert by_stage[target.pk]["count"] == 1 and by_stage[stage_of(pipeline).pk]["count"] == 0


def test_drop_refused_names_the_required_field_and_changes_nothing(team):
    # given a stage that requires the pipeline's "delivery date"
    pipeline, manager = team["pipeline"], team["manager"]
    PipelineFieldFactory(pipeline=pipeline, key="delivery_date", label="Дата доставки", type="date")
    target = stage_of(pipeline, nth=1)
    target.required_fields = ["delivery_date"]
    target.save()
    deal = DealFactory(pipeline=pipeline, responsible=manager)
    # when the deal is dropped there
    response = client_for(manager).post(reverse("deals:move", args=[deal.pk]), {"stage": target.pk},
                                        HTTP_ACCEPT="application/json")
    # then 400 with the field named by its label, and the deal stays
    assert response.status_code == 400
    body = response.json()
    assert "Дата доставки" in body["detail"]
    assert body["errors"][0]["field"] == "custom.delivery_date"
    deal.refresh_from_db()
    assert deal.stage == stage_of(pipeline)


def test_filters_narrow_columns_and_sums(team):
    # given deals of the manager and of the colleague
    pipeline, manager, colleague = team["pipeline"], team["manager"], team["colleague"]
    DealFactory(pipeline=pipeline, responsible=manager, title="Моя сделка", amount=Decimal("100"))
    DealFactory(pipeline=pipeline, responsible=colleague, title="Чужая", amount=Decimal("900"))
    client = client_for(manager)
    url = reverse("deals:board", args=[pipeline.pk])
    # when "my deals" is on / the colleague is picked / a search is typed
    mine = client.get(url, {"mine": "1"}).context["columns"][0]
    theirs = client.get(url, {"responsible": colleague.pk}).context["columns"][0]
    found = client.get(url, {"q": "Моя"}).context["columns"][0]
    # then each column counts and sums only what matches
    assert (mine.count, mine.total) == (1, Decimal("100.00"))
    assert (theirs.count, theirs.total) == (1, Decimal("900.00"))
    assert [d.title for d in found.deals] == ["Моя сделка"]


def test_another_departments_deal_is_404_everywhere_and_off_the_board(team):
    # given a deal of the outsider's department (its contact is theirs)
    pipeline, manager, outsider = team["pipeline"], team["manager"], team["outsider"]
    contact = make_contact(actor=outsider)
    hidden = make_deal(actor=outsider, pipeline=pipeline, contact_id=contact.pk, title="Секрет")
    client = client_for(manager)
    # when the manager tries its pages and the board
    board = client.get(reverse("deals:board", args=[pipeline.pk]))
    # then it is not on the board and every page of it is 404
    assert "Секрет" not in board.content.decode()
    assert board.context["columns"][0].count == 0
    for url in (reverse("deals:deal", args=[hidden.pk]), reverse("deals:deal_field", args=[hidden.pk, "title"])):
        assert client.get(url).status_code == 404
    assert client.post(reverse("deals:move", args=[hidden.pk]), {"stage": stage_of(pipeline, nth=1).pk},
                       HTTP_ACCEPT="application/json").status_code == 404
    hidden.refresh_from_db()
    assert hidden.stage == stage_of(pipeline)


def test_pipeline_of_another_department_is_404_and_switcher_lists_visible_ones(team):
    # given a pipeline of the outsider's department and a company-wide one
    theirs = PipelineFactory(name="Их воронка", department=team["outsider"].department)
    client = client_for(team["manager"])
    # when / then
    assert client.get(reverse("deals:board", args=[theirs.pk])).status_code == 404
    response = client.get(reverse("deals:board", args=[team["pipeline"].pk]))
    assert [p.name for p in response.context["pipelines"]] == ["Заказы"]
    assert client.get(reverse("deals:board_default")).url == reverse("deals:board", args=[team["pipeline"].pk])


def test_overdue_mark_on_the_card(team):
    pipeline, manager = team["pipeline"], team["manager"]
    DealFactory(pipeline=pipeline, responsible=manager, is_overdue=True)
    html = client_for(manager).get(reverse("deals:board", args=[pipeline.pk])).content.decode()
    assert "is-overdue" in html and "overdue-mark" in html


def test_card_links_built_from_deal_base_equal_the_reversed_urls(team):
    # given a deal on the board (its card's links are concatenated, not reversed, for speed)
    pipeline, manager = team["pipeline"], team["manager"]
    deal = DealFactory(pipeline=pipeline, responsible=manager)
    html = client_for(manager).get(reverse("deals:board", args=[pipeline.pk])).content.decode()
    # then they are exactly what deals:deal and deals:move reverse to
    assert f'href="{reverse("deals:deal", args=[deal.pk])}"' in html
    assert f'data-move-url="{reverse("deals:move", args=[deal.pk])}"' in html


def test_move_without_script_redirects_only_within_the_site(team):
    pipeline, manager = team["pipeline"], team["manager"]
    deal = DealFactory(pipeline=pipeline, responsible=manager)
    client = client_for(manager)
    # a form post (no JSON asked) goes back where it says, if that is on this site
    response = client.post(reverse("deals:move", args=[deal.pk]),
                           {"stage": stage_of(pipeline, "paused").pk, "next": "//evil.example/"})
    assert response.status_code == 302 and response.url == reverse("deals:deal", args=[deal.pk])
    response = client.post(reverse("deals:move", args=[deal.pk]),
                           {"stage": stage_of(pipeline).pk, "next": reverse("deals:list")})
    assert response.url == reverse("deals:list")
    deal.refresh_from_db()
    assert deal.stage == stage_of(pipeline)


def test_archived_pipeline_board_opens_but_leaves_the_switcher(team):
    pipeline = team["pipeline"]
    pipeline.is_active = False
    pipeline.save()
    response = client_for(team["manager"]).get(reverse("deals:board", args=[pipeline.pk]))
    assert response.status_code == 200 and response.context["pipeline"] == pipeline
    assert pipeline not in response.context["pipelines"]
