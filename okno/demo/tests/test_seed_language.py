"""The demo company's data is written in the company's language, whatever language the calling
thread had active (a test or a request that left English on)."""

from django.utils import translation

from okno.demo import company as demo
from okno.timeline.models import Activity


def test_seed_in_company_language_even_when_english_leaked(db):
    # given a thread left in English
    translation.activate("en")
    try:
        demo.demo_seed(contacts=400, seed=11)
    finally:
        translation.deactivate()
    # then the timeline the services wrote while seeding is Russian, as the company speaks
    assert not Activity.objects.filter(summary__contains="created at the stage").exists()
    assert Activity.objects.filter(summary__contains="создана на стадии").exists()
