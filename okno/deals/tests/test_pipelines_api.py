from okno.deals.models import Pipeline, Stage
from okno.deals.tests.factories import DealFactory, PipelineFactory, stage_of
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

STORE = {"name": "Заказы", "stages": [
    {"name": "Новый", "kind": "open"}, {"name": "Пауза", "kind": "paused"}, {"name": "Подтверждён", "kind": "open"},
    {"name": "Выполнен", "kind": "won"}, {"name": "Отменён", "kind": "lost"}]}


def test_create_a_pipeline_with_stages_inline(api):
    # when
    response = api.post("/api/v1/pipelines", STORE)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    pipeline = Pipeline.objects.get(pk=body["id"])
    assert [s["name"] for s in body["stages"]] == ["Новый", "Пауза", "Подтверждён", "Выполнен", "Отменён"]
    assert [s["kind"] for s in body["stages"]] == ["open", "paused", "open", "won", "lost"]
    assert [s.pk for s in pipeline.stages.all()] == [s["id"] for s in body["stages"]]
    assert body["calendar_id"] is None and body["stages"][0]["position"] == 0
    assert api.get(f"/api/v1/pipelines/{pipeline.pk}").json() == body


def test_bad_stages_are_named(api):
    response = api.post("/api/v1/pipelines", {"name": "X", "stages": [{"name": "A", "kind": "open"},
                                                                      {"name": "B", "kind": "closed"}]})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"stages[1].kind"}
    response = api.post("/api/v1/pipelines", {"name": "X", "stages": [{"name": "Done", "kind": "won"}]})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "stages"
    response = api.post("/api/v1/pipelines", {"name": "X", "calendar_id": 999999, "stages": [{"name": "A"}]})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "calendar_id"
    response = api.post("/api/v1/pipelines", {"name": "", "stages": [{"name": ""}]})
    assert {e["field"] for e in response.json()["errors"]} == {"name", "stages[0].name"}
    assert not Pipeline.objects.exists()


def test_only_an_administrator_sets_up_pipelines(db, api_as):
    response = api_as(UserFactory()).post("/api/v1/pipelines", STORE)
    assert response.status_code == 403 and not Pipeline.objects.exists()


def test_stages_and_fields_are_added_renamed_and_a_stage_with_deals_stays(api):
    # given
    pipeline = PipelineFactory()
    DealFactory(pipeline=pipeline)
    # when: a field and a stage requiring it
    field = api.post(f"/api/v1/pipelines/{pipeline.pk}/fields", {"key": "delivery_date", "label": "Дата доставки",
                                                                 "type": "date"})
    stage = api.post(f"/api/v1/pipelines/{pipeline.pk}/stages", {"name": "Сборка", "kind": "open", "position": 1,
                                                                 "required_fields": ["delivery_date"]})
    # then
    assert field.status_code == 201 and stage.status_code == 201, (field.content, stage.content)
    names = [s.name for s in pipeline.stages.all()]
    assert names[:2] == ["Новый", "Сборка"] and len(names) == 6
    assert api.post(f"/api/v1/pipelines/{pipeline.pk}/fields", {"key": "delivery_date", "label": "x"}).json()[
        "errors"][0] == {"field": "key", "reason": "this key is taken"}
    renamed = api.patch(f"/api/v1/pipelines/{pipeline.pk}/stages/{stage.json()['id']}", {"name": "Комплектация"})
    assert renamed.json()["name"] == "Комплектация"
    first = stage_of(pipeline)
    refused = api.delete(f"/api/v1/pipelines/{pipeline.pk}/stages/{first.pk}")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "stage_id"
    assert api.delete(f"/api/v1/pipelines/{pipeline.pk}/stages/{stage.json()['id']}").status_code == 204
    unknown = api.post(f"/api/v1/pipelines/{pipeline.pk}/stages", {"name": "Y", "required_fields": ["nope"]})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "required_fields"


def test_reorder_and_patch(api):
    pipeline = PipelineFactory()
    ids = [s.pk for s in pipeline.stages.all()]
    response = api.post(f"/api/v1/pipelines/{pipeline.pk}/stages/order", {"stage_ids": list(reversed(ids))})
    assert [s["id"] for s in response.json()["stages"]] == list(reversed(ids))
    assert api.post(f"/api/v1/pipelines/{pipeline.pk}/stages/order", {"stage_ids": ids[:2]}).status_code == 400
    patched = api.patch(f"/api/v1/pipelines/{pipeline.pk}", {"name": "B2B", "is_active": False})
    assert patched.json()["name"] == "B2B" and not Pipeline.objects.get(pk=pipeline.pk).is_active


def test_a_department_pipeline_is_missing_for_other_departments(db, api_as):
    sales, support = DepartmentFactory(), DepartmentFactory()
    theirs = PipelineFactory(department=support)
    everyone = PipelineFactory()
    member = api_as(UserFactory(department=sales))
    assert [p["id"] for p in member.get("/api/v1/pipelines").json()] == [everyone.pk]
    assert member.get(f"/api/v1/pipelines/{theirs.pk}").status_code == 404
    head = api_as(UserFactory(department=support, role=User.Role.HEAD))
    assert {p["id"] for p in head.get("/api/v1/pipelines").json()} == {everyone.pk, theirs.pk}
    team = api_as(UserFactory(department=DepartmentFactory(parent=support)))  # works its division's pipeline
    assert {p["id"] for p in team.get("/api/v1/pipelines").json()} == {everyone.pk, theirs.pk}


def test_the_board_counts_and_sums_each_column(api, admin_user):
    pipeline = PipelineFactory()
    new, paused = stage_of(pipeline), stage_of(pipeline, Stage.Kind.PAUSED)
    for amount in ("100.10", "200.20", "0.01"):
        DealFactory(pipeline=pipeline, stage=new, amount=amount)
    DealFactory(pipeline=pipeline, stage=paused, amount="5")
    columns = api.get(f"/api/v1/pipelines/{pipeline.pk}/board", per_column=2).json()
    assert [(c["count"], c["total"], len(c["deal_ids"]), c["has_more"]) for c in columns[:3]] == [
        (3, "300.31", 2, True), (1, "5.00", 1, False), (0, "0.00", 0, False)]
    rest = api.get(f"/api/v1/pipelines/{pipeline.pk}/stages/{new.pk}/deals", after=columns[0]["deal_ids"][-1],
                   limit=2).json()
    assert len(rest["deal_ids"]) == 1 and not rest["has_more"]
    assert set(rest["deal_ids"] + columns[0]["deal_ids"]) == set(new.deals.values_list("pk", flat=True))
