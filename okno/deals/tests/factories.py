"""Deals' test data: a pipeline with stages, deals in it. Built through the services where
the path matters (`make_deal`), plain rows where speed does (`DealFactory`)."""

from decimal import Decimal

import factory

from okno.deals.models import Deal, LostReason, Pipeline, PipelineField, Stage

# The online store's orders (the anchor): New -> Pause -> Confirmed -> Done / Cancelled.
STORE_STAGES = [
    {"name": "Новый", "kind": Stage.Kind.OPEN},
    {"name": "Пауза", "kind": Stage.Kind.PAUSED},
    {"name": "Подтверждён", "kind": Stage.Kind.OPEN},
    {"name": "Выполнен", "kind": Stage.Kind.WON},
    {"name": "Отменён", "kind": Stage.Kind.LOST},
]


class PipelineFactory(factory.django.DjangoModelFactory):
    """A pipeline with the store's five stages (`stages=[...]` to choose others, `stages=[]` none).

    `PipelineFactory().stages.all()` are in order; `pipeline.first_stage` etc. are not set:
    use `stage_of(pipeline, kind)` or index the list."""

    class Meta:
        model = Pipeline
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Воронка {n}")

    @factory.post_generation
    def stages(obj, create, extracted, **kwargs):
        if not create:
            return
        specs = STORE_STAGES if extracted is None else extracted
        Stage.objects.bulk_create([Stage(pipeline=obj, position=i, name=s["name"], kind=s.get("kind", "open"),
                                         required_fields=s.get("required_fields", []))
                                   for i, s in enumerate(specs)])


def stage_of(pipeline: Pipeline, kind: str = Stage.Kind.OPEN, nth: int = 0) -> Stage:
    """The pipeline's `nth` stage of `kind` in order."""
    return list(pipeline.stages.filter(kind=kind).order_by("position", "id"))[nth]


class PipelineFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PipelineField

    pipeline = factory.SubFactory(PipelineFactory)
    key = factory.Sequence(lambda n: f"field{n}")
    label = factory.Sequence(lambda n: f"Поле {n}")
    type = PipelineField.Type.TEXT


class LostReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LostReason
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Причина {n}")


class DealFactory(factory.django.DjangoModelFactory):
    """A plain row (no stage change, no activity, no event): for volume and for reads.

    Stage defaults to the pipeline's first stage; department to the responsible's."""

    class Meta:
        model = Deal

    pipeline = factory.SubFactory(PipelineFactory)
    stage = factory.LazyAttribute(lambda o: o.pipeline.stages.order_by("position", "id").first())
    title = factory.Sequence(lambda n: f"Сделка {n}")
    amount = Decimal("1500.00")
    responsible = None
    contact = None
    department = factory.LazyAttribute(lambda o: o.responsible.department if o.responsible else None)


def make_deal(*, actor=None, pipeline: Pipeline | None = None, via: str = "user", **raw) -> Deal:
    """A deal through `deal_create` (stage change, activity and `deal.created` as in the product)."""
    from okno.deals.deal_services import deal_create, deal_data_clean

    pipeline = pipeline or PipelineFactory()
    raw.setdefault("title", "Заказ")
    data = deal_data_clean(raw, pipeline=pipeline, actor=actor)
    return deal_create(actor=actor, pipeline=pipeline, data=data, via=via)
