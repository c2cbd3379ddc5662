"""What counts: successful (threshold, the department's own), talk without IVR and waiting,
missed, called back within the window or late."""

from datetime import timedelta

from okno.analytics.models import AnalyticsSettings, DepartmentThreshold
from okno.analytics.tests.factories import local, make_call, pbx
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.telephony.calls import CallFact, call_fact_record

DAY = "2026-11-10"


def report(api, **params):
    response = api.get("/api/v1/analytics/calls", **{"from": DAY, "to": DAY, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_successful_from_the_threshold_and_the_departments_own(api):
    # given the company's threshold of 20 s, and support's own of 30 s
    sales, support = DepartmentFactory(name="Продажи"), DepartmentFactory(name="Поддержка")
    DepartmentThreshold.objects.create(department=support, success_threshold_seconds=30)
    for dep in (sales, support):
        for talk in (19, 20, 25, 30):
            make_call(at=local(DAY, 10), talk=talk, department=dep)
    # when the report is grouped by department
    rows = {r["label"]: r for r in report(api, group_by="department")["rows"]}
    # then sales counts 20 s and more, support 30 s and more
    assert rows["Продажи"]["successful"] == 3
    assert rows["Поддержка"]["successful"] == 1
    assert rows["Продажи"]["calls"] == rows["Поддержка"]["calls"] == 4


def test_a_changed_threshold_recounts_history(api):
    # given calls of 25 s
    make_call(at=local(DAY, 10), talk=25)
    assert report(api)["totals"]["successful"] == 1
    # when the threshold goes up to 40 s
    AnalyticsSettings.objects.update_or_create(pk=1, defaults={"success_threshold_seconds": 40})
    # then the same calls are not successful any more
    assert report(api)["totals"]["successful"] == 0


def test_ivr_and_ringing_are_not_talk(api):
    # given a call the IVR held 40 s and that rang 15 s before the employee talked 12 s
    channel = pbx()
    start = local(DAY, 11)
    for kind, seconds in (("start", 0), ("ivr", 1), ("ring", 40), ("answer", 55), ("end", 67)):
        fact = CallFact(call_id="ivr-1", kind=kind, at=start + timedelta(seconds=seconds), direction="in",
                        customer="+74950000009", extension="101")
        call_fact_record(channel=channel, fact=fact)
    # when the report is read
    totals = report(api)["totals"]
    # then 12 s of talk (not 67), so not successful; the 55 s are waiting
    assert totals["talk_seconds"] == 12
    assert totals["successful"] == 0
    assert totals["answered"] == 1
    assert totals["wait_seconds_avg"] == 55


def test_voicemail_is_not_successful_and_is_missed(api):
    # given an inbound call that went to voicemail, and one still in progress
    make_call(at=local(DAY, 10), outcome="voicemail", wait=40)
    make_call(at=local(DAY, 10, 5), outcome="ongoing")
    # then the voicemail is a missed call, and the call in progress is not counted yet
    totals = report(api)["totals"]
    assert (totals["calls"], totals["successful"], totals["missed"]) == (1, 0, 1)


def test_an_answered_call_counts_once_it_has_ended(api):
    # given a call the employee answered and is still talking in (the PBX sent no end yet)
    channel, start = pbx(), local(DAY, 12)
    for kind, seconds in (("start", 0), ("ring", 2), ("answer", 8)):
        call_fact_record(channel=channel, fact=CallFact(call_id="talking-1", kind=kind, direction="in", leg="t1",
                                                        at=start + timedelta(seconds=seconds),
                                                        customer="+74950000011", extension="101"))
    # then it is not counted yet: not a call, not answered, no talk
    totals = report(api)["totals"]
    assert (totals["calls"], totals["answered"], totals["talk_seconds"]) == (0, 0, 0)
    # when it ends after 30 s of talk
    call_fact_record(channel=channel, fact=CallFact(call_id="talking-1", kind="end", leg="t1",
                                                    at=start + timedelta(seconds=38), extension="101"))
    # then it counts, once, with its talk
    totals = report(api)["totals"]
    assert (totals["calls"], totals["answered"], totals["successful"], totals["talk_seconds"]) == (1, 1, 1, 30)


def test_missed_called_back_in_time_and_late(api):
    # given a 30-minute window and three missed calls from three numbers
    employee = UserFactory()
    early, late, never = "+74950000001", "+74950000002", "+74950000003"
    for number in (early, late, never):
        make_call(at=local(DAY, 9), outcome="missed", wait=20, number=number, employee=employee)
    ended = local(DAY, 9, 0, 20)
    # when the first is called back 10 minutes after and answered, the second 45 minutes after,
    # the third only by an outbound call nobody answered
    make_call(at=ended + timedelta(minutes=10), direction="out", number=early, employee=employee)
    make_call(at=ended + timedelta(minutes=45), direction="out", number=late, employee=employee)
    make_call(at=ended + timedelta(minutes=5), direction="out", outcome="missed", number=never, employee=employee)
    # then one is called back, 600 s after, and two are not
    totals = report(api)["totals"]
    assert totals["missed"] == 3
    assert totals["missed_not_called_back"] == 2
    assert totals["callback_seconds_avg"] == 600
    # and an outbound call is never "missed"
    assert report(api, direction="out")["totals"]["missed"] == 0


def test_the_callback_window_is_the_settings(api):
    # given a missed call called back after 45 minutes
    make_call(at=local(DAY, 9), outcome="missed", wait=0, number="+74950000002")
    make_call(at=local(DAY, 9, 45), direction="out", number="+74950000002")
    # when the window is an hour
    AnalyticsSettings.objects.update_or_create(pk=1, defaults={"callback_window_minutes": 60})
    # then it was called back
    assert report(api)["totals"]["missed_not_called_back"] == 0


def test_the_window_includes_its_last_second(api):
    # given two missed calls ending at 9:00:00, called back 30:00 and 30:01 after
    make_call(at=local(DAY, 9), outcome="missed", wait=0, number="+74950000004")
    make_call(at=local(DAY, 9), outcome="missed", wait=0, number="+74950000005")
    make_call(at=local(DAY, 9, 30, 0), direction="out", number="+74950000004")
    make_call(at=local(DAY, 9, 30, 1), direction="out", number="+74950000005")
    # then the first is called back in time, the second late
    totals = report(api)["totals"]
    assert (totals["missed"], totals["missed_not_called_back"], totals["callback_seconds_avg"]) == (2, 1, 1800)
