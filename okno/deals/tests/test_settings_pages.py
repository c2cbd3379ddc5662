"""The pipeline settings pages: an administrator creates a pipeline with its stages, edits a
stage's kind, required fields and order, adds custom fields, and keeps the lost reasons."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from okno.core.errors import FieldError
from okno.core.models import Calendar
from okno.core.reasons import reason_text
from okno.deals.models import LostReason, Pipeline, Stage
from okno.deals.pipeline_services import deal_move_to_stage
from okno.deals.tests.factories import DealFactory, LostReasonFactory, PipelineFactory, PipelineFieldFactory
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(db):
    return UserFactory(role=User.Role.ADMIN, department=None, language="en")  # reasons checked in English


def new_pipeline_form(name: str, stages: list[tuple[str, str]], **extra) -> dict:
    data = {"name": name, **extra}
    for i in range(6):
        stage_name, kind = stages[i] if i < len(stages) else ("", "open")
        data[f"stage{i}-name"] = stage_name
        data[f"stage{i}-kind"] = kind
    return data


def stage_form(stage: Stage, **changes) -> dict:
    values = {"name": stage.name, "kind": stage.kind, "required_fields": stage.required_fields,
              "color": stage.color or "#c5cad3", **changes}
    return {f"s{stage.pk}-{k}": v for k, v in values.items()}


def test_an_administrator_creates_a_pipeline_with_its_stages_through_the_form(admin):
    # given
    client = logged_in(admin)
    department = DepartmentFactory(name="Магазин")
    calendar = Calendar.objects.create(name="Москва", hours={"mon": "09:00-18:00"})
    page = client.get(reverse("deals:pipelines_settings"))
    assert page.status_code == 200
    assert 'value="New"' in page.content.decode() or 'value="Новый"' in page.content.decode()
    # when
    response = client.post(reverse("deals:pipelines_settings"), new_pipeline_form(
        "Заказы", [("Новый", "open"), ("Пауза", "paused"), ("Подтверждён", "open"), ("Выполнен", "won"),
                   ("Отменён", "lost")], department=department.pk, calendar=calendar.pk))
    # then
    pipeline = Pipeline.objects.get(name="Заказы")
    assert response.status_code == 302 and response.url == reverse("deals:pipeline_settings", args=[pipeline.pk])
    assert (pipeline.department, pipeline.calendar) == (department, calendar)
    assert [(s.name, s.kind) for s in pipeline.stages.all()] == [
        ("Новый", "open"), ("Пауза", "paused"), ("Подтверждён", "open"), ("Выполнен", "won"), ("Отменён", "lost")]
    listing = client.get(reverse("deals:pipelines_settings")).content.decode()
    assert reverse("deals:board", args=[pipeline.pk]) in listing
    assert reverse("robots:pipeline", args=[pipeline.pk]) in listing
    settings_page = client.get(reverse("deals:pipeline_settings", args=[pipeline.pk]))
    assert settings_page.status_code == 200 and "Подтверждён" in settings_page.content.decode()


def test_a_manager_gets_403_on_every_settings_page(db):
    # given
    manager = UserFactory(role=User.Role.MANAGER)
    client = logged_in(manager)
    pipeline = PipelineFactory()
    stage = pipeline.stages.first()
    reason = LostReasonFactory()
    # when / then
    for url in (reverse("deals:pipelines_settings"), reverse("deals:pipeline_settings", args=[pipeline.pk]),
                reverse("deals:lost_reasons_settings")):
        assert client.get(url).status_code == 403
    assert client.post(reverse("deals:pipelines_settings"), new_pipeline_form("X", [("A", "open")])).status_code == 403
    assert client.post(reverse("deals:stage_delete", args=[pipeline.pk, stage.pk])).status_code == 403
    assert client.post(reverse("deals:lost_reason_edit", args=[reason.pk]), {"active": "0"}).status_code == 403
    assert not Pipeline.objects.filter(name="X").exists()
    assert Stage.objects.filter(pk=stage.pk).exists()
    assert LostReason.objects.get(pk=reason.pk).is_active


def test_the_settings_item_is_in_the_sidebar_of_administrators_only(admin):
    # given
    manager = UserFactory(role=User.Role.MANAGER)
    # when
    as_admin = logged_in(admin).get(reverse("deals:pipelines_settings")).content.decode()
    as_manager = logged_in(manager).get("/").content.decode()
    # then
    assert 'id="nav-pipelines"' in as_admin
    assert 'id="nav-pipelines"' not in as_manager


def test_a_bad_new_pipeline_shows_the_reason_beside_the_input_with_400(admin):
    # given
    client = logged_in(admin)
    # when: no open stage at all
    response = client.post(reverse("deals:pipelines_settings"),
                           new_pipeline_form("Без открытых", [("Выполнен", "won"), ("Отменён", "lost")]))
    # then
    assert response.status_code == 400
    assert "a pipeline needs at least one open stage" in response.content.decode()
    assert not Pipeline.objects.filter(name="Без открытых").exists()
    # when: no name
    response = client.post(reverse("deals:pipelines_settings"), new_pipeline_form("", [("Новый", "open")]))
    # then
    assert response.status_code == 400
    assert 'class="field has-error"' in response.content.decode()


def test_a_required_field_set_in_the_form_refuses_a_move(admin):
    # given
    client = logged_in(admin)
    pipeline = PipelineFactory()
    new, pause, confirmed = list(pipeline.stages.all())[:3]
    # when: a custom field is added, and the Confirmed stage requires it
    response = client.post(reverse("deals:pipeline_field_add", args=[pipeline.pk]),
                           {"field-key": "delivery_date", "field-label": "Дата доставки", "field-type": "date"})
    assert response.status_code == 302
    response = client.post(reverse("deals:stage_edit", args=[pipeline.pk, confirmed.pk]),
                           stage_form(confirmed, required_fields=["delivery_date", "amount"]))
    # then
    assert response.status_code == 302
    confirmed.refresh_from_db()
    assert confirmed.required_fields == ["delivery_date", "amount"]
    deal = DealFactory(pipeline=pipeline, stage=new)
    with pytest.raises(FieldError) as refused:
        deal_move_to_stage(deal=deal, stage=confirmed, actor=admin)
    assert "custom.delivery_date" in refused.value.by_field
    deal.refresh_from_db()
    assert deal.stage == new


def test_stages_are_added_reordered_edited_and_deleted_and_a_refused_delete_says_why(admin):
    # given
    client = logged_in(admin)
    pipeline = PipelineFactory(stages=[{"name": "Новый"}, {"name": "Готово", "kind": "won"}])
    new, done = list(pipeline.stages.all())
    DealFactory(pipeline=pipeline, stage=new)
    # when: a stage is added (last) and moved up once
    response = client.post(reverse("deals:stage_add", args=[pipeline.pk]),
                           {"new-name": "Пауза", "new-kind": "paused", "new-color": "#ffaa00"})
    assert response.status_code == 302
    pause = pipeline.stages.get(name="Пауза")
    client.post(reverse("deals:stage_move", args=[pipeline.pk, pause.pk]), {"direction": "up"})
    # then
    assert [s.name for s in pipeline.stages.all()] == ["Новый", "Пауза", "Готово"]
    # when: a stage holding deals is to be deleted
    response = client.post(reverse("deals:stage_delete", args=[pipeline.pk, new.pk]))
    # then
    assert response.status_code == 400
    page = response.content.decode()
    assert "this stage holds deals" in page[page.index(f'id="stage-{new.pk}"'):page.index(f'id="stage-{pause.pk}"')]
    assert "1 deal<" in page
    assert Stage.objects.filter(pk=new.pk).exists()
    # when: its kind is to change
    response = client.post(reverse("deals:stage_edit", args=[pipeline.pk, new.pk]), stage_form(new, kind="won"))
    # then
    assert response.status_code == 400
    assert "a stage holding deals keeps its kind" in response.content.decode()
    # when: an empty stage is renamed, then deleted
    assert client.post(reverse("deals:stage_edit", args=[pipeline.pk, pause.pk]),
                       stage_form(pause, name="Ждём оплату")).status_code == 302
    assert pipeline.stages.filter(name="Ждём оплату").exists()
    assert client.post(reverse("deals:stage_delete", args=[pipeline.pk, pause.pk])).status_code == 302
    # then
    assert [s.name for s in pipeline.stages.all()] == ["Новый", "Готово"]


def test_the_pipeline_is_renamed_and_a_bad_field_key_is_named(admin):
    # given
    client = logged_in(admin)
    pipeline = PipelineFactory(name="Старое")
    PipelineFieldFactory(pipeline=pipeline, key="taken")
    # when
    renamed = client.post(reverse("deals:pipeline_settings", args=[pipeline.pk]), {"name": "Новое"})
    bad_key = client.post(reverse("deals:pipeline_field_add", args=[pipeline.pk]),
                          {"field-key": "taken", "field-label": "Ещё", "field-type": "text"})
    no_choices = client.post(reverse("deals:pipeline_field_add", args=[pipeline.pk]),
                             {"field-key": "size", "field-label": "Размер", "field-type": "choice"})
    # then
    assert renamed.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.name == "Новое"
    assert bad_key.status_code == 400 and "this key is taken" in bad_key.content.decode()
    assert no_choices.status_code == 400 and "a choice field needs at least one choice" in no_choices.content.decode()
    assert list(pipeline.fields.values_list("key", flat=True)) == ["taken"]


def test_the_robots_page_links_to_the_stages_and_fields(admin):
    # given
    pipeline = PipelineFactory()
    # when
    page = logged_in(admin).get(reverse("robots:pipeline", args=[pipeline.pk])).content.decode()
    # then
    assert reverse("deals:pipeline_settings", args=[pipeline.pk]) in page


def test_lost_reasons_are_added_renamed_and_retired(admin):
    # given
    client = logged_in(admin)
    url = reverse("deals:lost_reasons_settings")
    # when
    added = client.post(url, {"name": "Дорого"})
    twice = client.post(url, {"name": "дорого"})
    # then
    assert added.status_code == 302
    assert twice.status_code == 400 and "this name is taken" in twice.content.decode()
    reason = LostReason.objects.get(name="Дорого")
    # when
    renamed = client.post(reverse("deals:lost_reason_edit", args=[reason.pk]), {f"r{reason.pk}-name": "Слишком дорого"})
    retired = client.post(reverse("deals:lost_reason_edit", args=[reason.pk]), {"active": "0"})
    # then
    assert renamed.status_code == 302 and retired.status_code == 302
    reason.refresh_from_db()
    assert (reason.name, reason.is_active) == ("Слишком дорого", False)
    assert "Слишком дорого" in client.get(url).content.decode()
    # when
    client.post(reverse("deals:lost_reason_edit", args=[reason.pk]), {"active": "1"})
    # then
    reason.refresh_from_db()
    assert reason.is_active


@pytest.mark.browser
def test_in_a_browser_an_administrator_sets_up_a_pipeline_in_a_few_clicks(admin, logged_in_page):
    # given
    page = logged_in_page(admin)
    page.goto(reverse("deals:pipelines_settings"))
    # when: the default stages are kept, one paused stage is added in the fifth row
    page.fill("#id_name", "Orders")
    page.fill("#id_stage4-name", "Pause")
    page.select_option("#id_stage4-kind", "paused")
    page.click("#new-pipeline button[type=submit]")
    page.wait_for_url("**/settings/pipelines/*/")
    pipeline = Pipeline.objects.get(name="Orders")
    # then
    assert [(s.name, s.kind) for s in pipeline.stages.all()] == [
        ("New", "open"), ("In progress", "open"), ("Won", "won"), ("Lost", "lost"), ("Pause", "paused")]
    # when: the won stage requires the amount; the pause moves left of it
    won, pause = pipeline.stages.get(kind="won"), pipeline.stages.get(kind="paused")
    page.check(f"#stage-{won.pk} input[value=amount]")
    with page.expect_navigation():
        page.click(f"#stage-{won.pk} button.btn-primary")
    for _ in range(2):
        with page.expect_navigation():
            page.click(f"#stage-{pause.pk} button[aria-label]")  # ← comes first
    # then
    won.refresh_from_db()
    assert won.required_fields == ["amount"]
    assert [s.name for s in pipeline.stages.all()] == ["New", "In progress", "Pause", "Won", "Lost"]


def test_the_reason_is_shown_in_the_administrators_language(db):
    # given
    admin_ru = UserFactory(role=User.Role.ADMIN, department=None, language="ru")
    pipeline = PipelineFactory()
    PipelineFieldFactory(pipeline=pipeline, key="taken")
    with translation.override("ru"):
        expected = reason_text("this key is taken")
    # when
    response = logged_in(admin_ru).post(reverse("deals:pipeline_field_add", args=[pipeline.pk]),
                                        {"field-key": "taken", "field-label": "Ещё", "field-type": "text"})
    # then
    assert response.status_code == 400
    assert expected != "this key is taken"
    assert expected in response.content.decode()


def test_lost_reasons_are_reordered(admin):
    # given: positions as the API may leave them (repeated: the list is then by name)
    first, second, third = (LostReason.objects.create(name=n, position=0) for n in ("Долго", "Дорого", "Нет в наличии"))
    client = logged_in(admin)
    # when
    response = client.post(reverse("deals:lost_reason_edit", args=[third.pk]), {"move": "up"})
    # then
    assert response.status_code == 302
    assert list(LostReason.objects.values_list("name", flat=True)) == ["Долго", "Нет в наличии", "Дорого"]
    # when: the first cannot move up
    client.post(reverse("deals:lost_reason_edit", args=[first.pk]), {"move": "up"})
    # then
    assert list(LostReason.objects.values_list("name", flat=True)) == ["Долго", "Нет в наличии", "Дорого"]


def test_pipelines_are_reordered(admin):
    # given
    PipelineFactory(name="Заказы")
    second = PipelineFactory(name="B2B")
    Pipeline.objects.update(position=0)
    # when
    response = logged_in(admin).post(reverse("deals:pipeline_move", args=[second.pk]), {"direction": "up"})
    # then
    assert response.status_code == 302
    assert list(Pipeline.objects.values_list("name", flat=True)) == ["B2B", "Заказы"]
