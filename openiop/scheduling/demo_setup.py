"""Demo data for the weekly scheduler: time blocks per site, when each counselor can lead, and
which programs they lead, so that ``openiop schedule week --program "Adult Evening IOP" --week
<next Monday>`` gives a sensible draft on the demo database. Called by the demo builder
(``openiop.organizations.demo``) after sites, programs and staff exist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.organizations.models import Organization, Program, Site
from openiop.scheduling.models import ClinicianProgram, ClinicianSlot, ScheduleBlock

WEEKDAYS = range(5)  # Monday to Friday

#: (start, minutes, part of day) of the blocks at every in-person site, Monday to Friday.
IN_PERSON_BLOCKS = (
    (dt.time(9, 0), 180, ScheduleBlock.PartOfDay.DAY),
    (dt.time(15, 30), 120, ScheduleBlock.PartOfDay.AFTER_SCHOOL),
    (dt.time(18, 0), 180, ScheduleBlock.PartOfDay.EVENING),
)
VIRTUAL_BLOCKS = ((dt.time(18, 30), 180, ScheduleBlock.PartOfDay.EVENING),)

#: program name -> the counselors (demo usernames) who lead its groups (the demo's pools).
LEADS = {
    "Adult Day IOP": ("counselor", "counselor2"),
    "Adult Evening IOP": ("counselor3", "counselor"),
    "Virtual IOP": ("counselor2", "counselor4"),
    "Adolescent IOP": ("counselor4", "counselor3"),
}

_COHORT_PART = {
    Program.Cohort.DAY: ScheduleBlock.PartOfDay.DAY,
    Program.Cohort.EVENING: ScheduleBlock.PartOfDay.EVENING,
    Program.Cohort.AFTER_SCHOOL: ScheduleBlock.PartOfDay.AFTER_SCHOOL,
}


def add_schedule_setup(*, organization: Organization, staff: dict[str, Any]) -> int:
    """Create the blocks, clinician slots and clinician-program links; returns blocks created.
    Counselors missing from ``staff`` are skipped (a smaller demo)."""
    blocks: dict[int, list[ScheduleBlock]] = {}
    for site in Site.objects.for_org(organization).order_by("id"):
        shapes = VIRTUAL_BLOCKS if site.kind == Site.Kind.VIRTUAL else IN_PERSON_BLOCKS
        blocks[site.pk] = ScheduleBlock.objects.bulk_create(
            ScheduleBlock(
                organization=organization,
                site=site,
                day=day,
                start=start,
                minutes=minutes,
                part_of_day=part,
            )
            for day in WEEKDAYS
            for start, minutes, part in shapes
        )
    slots: dict[tuple[int, int, str], ClinicianSlot] = {}
    links = []
    for program in Program.objects.for_org(organization).filter(name__in=LEADS):
        virtual = program.modality == Program.Modality.VIRTUAL
        modality = ClinicianSlot.Modality.VIRTUAL if virtual else ClinicianSlot.Modality.IN_PERSON
        part = _COHORT_PART.get(program.cohort, ScheduleBlock.PartOfDay.DAY)
        for username in LEADS[program.name]:
            user = staff.get(username)
            if user is None:
                continue
            links.append(
                ClinicianProgram(
                    organization=organization, user=user, program=program, max_groups_per_week=5
                )
            )
            for block in blocks.get(program.site_id, []):
                if block.part_of_day == part:
                    key = (user.pk, block.pk, modality)
                    slots[key] = ClinicianSlot(
                        organization=organization, user=user, block=block, modality=modality
                    )
    ClinicianProgram.objects.bulk_create(links)
    ClinicianSlot.objects.bulk_create(slots.values())
    return sum(len(b) for b in blocks.values())
