"""T5: the Content-Security-Policy allows styles from our own files only (no 'unsafe-inline').

That only holds if no page needs inline CSS: every page with a chart (matplotlib SVG) is rendered
here and must carry no ``style="..."`` attribute and no ``<style>`` element, and every template
and our own JavaScript are checked for inline CSS, so a new page cannot quietly bring it back.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from conftest import login

# Wednesday 2026-11-18, 12:00 in New York: the `episode` fixture (admitted Nov 2) has 3 weeks.
NOW = dt.datetime(2026, 11, 18, 17, 0, tzinfo=dt.UTC)
INLINE_STYLE = re.compile(r"<style\b|<[a-z][^>]*\sstyle\s*=", re.I)
PHQ9 = [2, 2, 1, 2, 1, 2, 1, 1, 1]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_no_inline_css(response, *, charts: int = 1) -> str:
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<svg") >= charts, "the page should show its chart(s)"
    found = INLINE_STYLE.search(body)
    assert found is None, body[max(found.start() - 200, 0) : found.end() + 200]
    policy = directives(response)
    assert policy["style-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    return body


def scores(counselor, episode, *answers):
    from openiop.questionnaires import services

    for day, answer in enumerate(answers):
        with time_machine.travel(NOW - dt.timedelta(days=7 - 3 * day), tick=False):
            services.response_record(
                actor=counselor, patient=episode.patient, episode=episode, instrument="phq9",
                answers=answer,
            )  # fmt: skip


def test_the_policy_has_no_unsafe_inline_anywhere():
    policy = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert policy["style-src"] == ["'self'"]
    assert all("'unsafe-inline'" not in values for values in policy.values())


def test_patient_chart_and_scores_pages(client, counselor, episode):
    scores(counselor, episode, PHQ9, [0] * 9)
    login(client, counselor)
    body = assert_no_inline_css(
        client.get(reverse("patients:patient-detail", args=[episode.patient.public_id])),
        charts=2,  # weekly hours + the PHQ-9 trend in the scores panel
    )
    assert "Hours attended per week in Adult Evening IOP</title>" in body
    assert 'fill="#' in body  # the bars keep their colours, as attributes
    body = assert_no_inline_css(
        client.get(reverse("questionnaires:patient-scores", args=[episode.patient.public_id]))
    )
    assert "PHQ-9 total over time" in body


def test_dashboard(client, supervisor, episode):
    body = assert_no_inline_css(login(client, supervisor).get(reverse("reports:dashboard")))
    assert '<title id="summary-chart-title">' in body


def test_intake_report(client, org, intake, program):
    from openiop.placement.services import referral_create

    referral_create(
        actor=intake, organization=org, first_name="Maya", last_name="Lindqvist",
        date_of_birth=dt.date(1990, 6, 1), phone="555-0142", source="employer",
        received_on=dt.date(2026, 11, 12), reason="Drinking after work",
        program_requested=program,
    )  # fmt: skip
    body = assert_no_inline_css(login(client, intake).get(reverse("placement:intake-report")))
    assert "Median days from referral" in body


def test_outcome_report(client, org, program, counselor):
    from openiop.questionnaires.tests.test_outcomes import seed_known

    with time_machine.travel(dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC), tick=False):
        seed_known(org, program, counselor)
        url = reverse("questionnaires:outcome-change", args=[program.public_id])
        response = login(client, counselor).get(
            url + "?instrument=phq9&start=2026-01-01&end=2026-12-01"
        )
    body = assert_no_inline_css(response)
    assert "admission to discharge" in body


def test_ur_packet_page_links_its_stylesheet_and_the_standalone_file_inlines_it(
    client, supervisor, episode
):
    from openiop.clinical.selectors.ur import packet_html, ur_packet

    url = reverse("clinical:ur-packet", args=[episode.public_id])
    body = assert_no_inline_css(
        login(client, supervisor).get(url + "?start=2026-11-02&end=2026-11-15")
    )
    assert "openiop/ur_packet.css" in body
    # The downloaded file, the PDF and the command (standalone) have no policy and nothing to
    # fetch: the same CSS is inline there.
    standalone = packet_html(
        ur_packet(supervisor, episode, dt.date(2026, 11, 2), dt.date(2026, 11, 15))
    )
    assert "<link" not in standalone and "<style>" in standalone
    assert "@media print" in standalone and "break-before:page" in standalone


def test_the_two_copies_of_the_ur_packet_stylesheet_are_identical():
    base = Path(settings.BASE_DIR)
    static = base / "static" / "openiop" / "ur_packet.css"
    inline = base / "templates" / "clinical" / "_ur_packet.css"
    assert static.read_text() == inline.read_text()


def test_mfa_setup_qr_code(client, counselor):
    body = assert_no_inline_css(login(client, counselor).get(reverse("accounts:mfa-setup")))
    assert "otpauth://" in body


def test_htmx_is_told_not_to_inject_its_indicator_style(client, counselor):
    body = login(client, counselor).get(reverse("patients:patient-list")).content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in body
    js = (Path(settings.BASE_DIR) / "static" / "openiop" / "htmx.min.js").read_text()
    assert "querySelector('meta[name=\"htmx-config\"]')" in js  # htmx reads that tag
    assert ".htmx-indicator" in (Path(settings.BASE_DIR) / "static/openiop/app.css").read_text()


def _templates() -> list[Path]:
    base = Path(settings.BASE_DIR)
    found = sorted((base / "templates").rglob("*.html"))
    found += sorted(base.glob("*/templates/**/*.html"))
    return found


def test_no_template_or_script_of_ours_carries_inline_css():
    offenders = []
    for path in _templates():
        text = path.read_text()
        if path.name == "ur_packet.html":
            # The one <style>: only in the downloaded file (standalone), never on the web page.
            text = text.replace(
                '{% if standalone %}<style>\n{% include "clinical/_ur_packet.css" %}</style>', ""
            )
        if path.name == "outcomes_standalone.html":
            # Written to a file by `openiop report outcomes`, never served by the web app.
            text = text.replace("<style>\n{{ inline_css|safe }}\n</style>", "")
        if re.search(r"<style\b|\sstyle\s*=", text, re.I):
            offenders.append(str(path))
    scripts = Path(settings.BASE_DIR) / "static" / "openiop"
    for path in sorted(scripts.glob("*.js")):
        if path.name == "htmx.min.js":
            continue
        text = path.read_text()
        if re.search(r"<style\b|\sstyle\s*=|setAttribute\(\s*['\"]style", text, re.I):
            offenders.append(str(path))
    assert len(_templates()) > 50
    assert offenders == []
