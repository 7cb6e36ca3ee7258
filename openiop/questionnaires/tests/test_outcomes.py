"""Program change from admission to discharge: pure pairing and summary rules, the selector on
known data, the page (chart, small n) and its access."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from conftest import login
from openiop.core.models import AuditEvent
from openiop.enrollment.models import Episode
from openiop.enrollment.services import episode_create
from openiop.patients.services import patient_create
from openiop.questionnaires import outcomes, selectors, services
from openiop.questionnaires.outcomes import Scored

D = dt.date
NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
ADMITTED, DISCHARGED = D(2026, 9, 1), D(2026, 10, 15)


# -- pure ----------------------------------------------------------------------------------------


def test_pair_takes_earliest_admission_and_latest_discharge_score():
    scores = [
        Scored(D(2026, 8, 25), 18, 1),  # 7 days before admission: counts (intake)
        Scored(D(2026, 9, 3), 16, 2),
        Scored(D(2026, 9, 25), 12, 3),  # mid-treatment: in neither window
        Scored(D(2026, 10, 1), 9, 4),  # 14 days before discharge: in the window
        Scored(D(2026, 10, 22), 7, 5),  # 7 days after discharge: latest in the window
        Scored(D(2026, 10, 23), 2, 6),  # too late
    ]
    pair = outcomes.pair_for_episode(scores, admitted_on=ADMITTED, discharged_on=DISCHARGED)
    assert (pair.admission.value, pair.discharge.value, pair.change) == (18, 7, -11)


def test_no_pair_without_both_windows_or_with_one_response_only():
    early = [Scored(D(2026, 8, 24), 18, 1), Scored(D(2026, 10, 10), 9, 2)]  # 8 days before
    assert outcomes.pair_for_episode(early, admitted_on=ADMITTED, discharged_on=DISCHARGED) is None
    short = [Scored(D(2026, 9, 5), 12, 1)]  # one response in both windows of a short stay
    assert (
        outcomes.pair_for_episode(short, admitted_on=D(2026, 9, 1), discharged_on=D(2026, 9, 8))
        is None
    )


def test_summary_of_known_pairs():
    data = [(20, 8), (15, 9), (12, 10), (10, 4), (8, 9), (18, 17)]
    pairs = [
        outcomes.Pair(Scored(ADMITTED, a, i), Scored(DISCHARGED, b, 100 + i))
        for i, (a, b) in enumerate(data)
    ]
    s = outcomes.summarize(pairs, reliable_change=5, clinical_cutoff=10)
    assert (s.n, s.enough, s.mean_change, s.median_change) == (6, True, -4.3, -4.0)
    assert (s.improved, s.improved_pct, s.worsened, s.worsened_pct) == (3, 50.0, 0, 0.0)
    assert (s.above_at_admission, s.moved_below, s.moved_below_pct) == (5, 3, 60.0)
    assert (s.mean_admission, s.mean_discharge) == (13.8, 9.5)


def test_summary_under_five_is_too_few_to_compare():
    pairs = [outcomes.Pair(Scored(ADMITTED, 20, i), Scored(DISCHARGED, 5, 9 + i)) for i in range(4)]
    s = outcomes.summarize(pairs, reliable_change=5, clinical_cutoff=10)
    assert (s.n, s.enough, s.mean_change, s.improved_pct) == (4, False, None, None)


def test_cut_off_share_needs_five_people_above_it():
    data = [(12, 4), (11, 3), (4, 2), (3, 1), (2, 0), (1, 1)]
    pairs = [
        outcomes.Pair(Scored(ADMITTED, a, i), Scored(DISCHARGED, b, 9 + i))
        for i, (a, b) in enumerate(data)
    ]
    s = outcomes.summarize(pairs, reliable_change=5, clinical_cutoff=10)
    assert s.enough and s.above_at_admission == 2
    assert (s.moved_below, s.moved_below_pct, s.enough_above) == (None, None, False)


def test_thresholds_per_instrument():
    from openiop.questionnaires.instruments import registry

    found = [
        (k, registry.get(k).reliable_change, registry.get(k).clinical_cutoff)
        for k in selectors.OUTCOME_INSTRUMENTS
    ]
    assert found == [("phq9", 5, 10), ("gad7", 4, 10), ("pcl5", 10, 33)]


# -- selector and page on known data -------------------------------------------------------------


def phq9(total: int) -> list[int]:
    """PHQ-9 answers with the given total and item 9 = 0."""
    codes = []
    for _ in range(8):
        codes.append(min(3, total))
        total -= codes[-1]
    return [*codes, 0]


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(15), tzinfo=dt.UTC)


def discharged_episode(org, program, counselor, n: int, scores: dict[dt.date, int], **dates):
    patient = patient_create(
        actor=None, organization=org, first_name="Pat", last_name=f"Person{n}",
        date_of_birth=dt.date(1990, 1, 1), sex="female",
    )  # fmt: skip
    admitted = dates.get("admitted", ADMITTED)
    episode = episode_create(
        actor=None, patient=patient, program=program, admitted_on=admitted,
        primary_counselor=counselor,
    )  # fmt: skip
    for day, total in scores.items():
        services.response_record(
            actor=counselor, patient=patient, episode=episode, instrument="phq9",
            answers=phq9(total), administered_at=at(day),
        )  # fmt: skip
    Episode.objects.filter(pk=episode.pk).update(
        status=Episode.Status.DISCHARGED,
        discharged_on=dates.get("discharged", DISCHARGED),
        discharge_reason=1,
    )
    return episode


KNOWN = [(20, 8), (15, 9), (12, 10), (10, 4), (8, 9), (18, 17)]


def seed_known(org, program, counselor):
    for n, (a, b) in enumerate(KNOWN):
        scores = {ADMITTED: a, D(2026, 10, 14): b}
        if n == 0:
            scores[D(2026, 9, 25)] = 27 - 3  # mid-treatment: not used
        discharged_episode(org, program, counselor, n, scores)
    # left out: no discharge score
    discharged_episode(org, program, counselor, 10, {ADMITTED: 22})
    # outside the date range (discharged the year before)
    discharged_episode(
        org, program, counselor, 11, {D(2025, 9, 1): 20, D(2025, 10, 14): 0},
        admitted=D(2025, 9, 1), discharged=D(2025, 10, 15),
    )  # fmt: skip


@time_machine.travel(NOW, tick=False)
def test_outcome_selector_on_known_data(org, program, counselor, supervisor):
    seed_known(org, program, counselor)
    report = selectors.outcome_change(
        user=supervisor, program=program, instrument="phq9",
        start=D(2026, 1, 1), end=D(2026, 12, 1),
    )  # fmt: skip
    assert (report.discharged, report.left_out, report.summary.n) == (7, 1, 6)
    assert sorted((p.admission.value, p.discharge.value) for p in report.pairs) == sorted(KNOWN)
    assert report.summary.mean_change == -4.3 and report.summary.improved_pct == 50.0
    assert "<svg" in report.chart_svg and "for 6 people: mean 13.8 at admission" in (
        report.chart_svg
    )
    event = AuditEvent.objects.get(action="openiop.questionnaires.outcome.read")
    assert len(event.detail["patients"]) == 6 and event.detail["n"] == 6


def outcomes_url(program, **query) -> str:
    url = reverse("questionnaires:outcome-change", args=[program.public_id])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@time_machine.travel(NOW, tick=False)
def test_outcome_page_shows_the_figures_and_the_chart(
    client, org, program, counselor, django_assert_max_num_queries
):
    seed_known(org, program, counselor)
    login(client, counselor)
    with django_assert_max_num_queries(14):
        page = client.get(outcomes_url(program, instrument="phq9", start="2026-01-01",
                                       end="2026-12-01"))  # fmt: skip
    html = page.content.decode()
    assert page.status_code == 200
    assert "n = 6" in html and "7 discharged; 1 without both scores" in html
    assert "mean -4.3, median -4.0" in html
    assert "50.0% (3 of 6) dropped by 5 points or more" in html
    assert "60.0% (3 of 5 at or above 10 at admission)" in html
    assert 'role="img"' in html


@time_machine.travel(NOW, tick=False)
def test_outcome_page_with_few_people_says_too_few(client, org, program, counselor):
    for n, (a, b) in enumerate(KNOWN[:3]):
        discharged_episode(org, program, counselor, n, {ADMITTED: a, D(2026, 10, 14): b})
    page = login(client, counselor).get(outcomes_url(program))  # default: the last year
    html = page.content.decode()
    assert page.status_code == 200
    assert "n = 3" in html and "Too few to compare" in html
    assert "<svg" not in html and "mean -" not in html


@time_machine.travel(NOW, tick=False)
def test_outcome_page_bad_range_is_a_form_error(client, program, counselor):
    page = login(client, counselor).get(outcomes_url(program, start="2026-12-01", end="2026-01-01"))
    assert page.status_code == 400
    assert "before its start" in page.content.decode()
    bad = client.get(outcomes_url(program, instrument="audit"))
    assert bad.status_code == 400


def test_outcome_page_access(client, front_desk, outsider, program):
    url = outcomes_url(program)
    assert client.get(url).status_code == 302
    assert login(client, front_desk).get(url).status_code == 403
    assert login(client, outsider).get(url).status_code == 404
