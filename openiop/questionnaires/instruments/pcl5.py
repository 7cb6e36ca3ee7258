"""PCL-5 (PTSD Checklist for DSM-5; Weathers et al. 2013), 20 items, past month, each 0-4.

Total 0-80. There are no official severity bands, so ``severity`` is null. ``positive`` is
total >= 33, the cut-off the National Center for PTSD suggests for a provisional diagnosis (a
range of 31-33 is published; we use the upper, more specific value).

Subscales are the DSM-5 symptom clusters: B (items 1-5), C (6-7), D (8-14), E (15-20).
The DSM-5 cluster rule (an item rated 2 "moderately" or higher counts as a symptom endorsed;
needs at least 1 B, 1 C, 2 D and 2 E) is the flag ``dsm5_cluster_rule_met``. It is not an alert.
"""

from __future__ import annotations

from openiop.questionnaires.instruments.base import Instrument, Item, Parts, options

SCALE = options(
    (0, "Not at all"),
    (1, "A little bit"),
    (2, "Moderately"),
    (3, "Quite a bit"),
    (4, "Extremely"),
)

_TEXTS = (
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again (as "
    "if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience "
    "(for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, "
    "conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or have "
    "loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
)

ITEMS = tuple(
    Item(link_id=f"pcl5-{n}", label=str(n), text=text, options=SCALE)
    for n, text in enumerate(_TEXTS, start=1)
)

# cluster -> (first item, last item), 1-based inclusive; and symptoms needed for the DSM rule
CLUSTERS: dict[str, tuple[int, int, int]] = {
    "cluster_b": (1, 5, 1),
    "cluster_c": (6, 7, 1),
    "cluster_d": (8, 14, 2),
    "cluster_e": (15, 20, 2),
}
SYMPTOM_AT = 2
POSITIVE_AT = 33


def _score(codes: tuple[int, ...], sex: str | None) -> Parts:  # noqa: ARG001
    subscales: dict[str, int] = {}
    rule_met = True
    for name, (first, last, needed) in CLUSTERS.items():
        part = codes[first - 1 : last]
        subscales[name] = sum(part)
        if sum(1 for c in part if c >= SYMPTOM_AT) < needed:
            rule_met = False
    total = sum(codes)
    return Parts(
        total=total,
        positive=total >= POSITIVE_AT,
        subscales=subscales,
        flags=("dsm5_cluster_rule_met",) if rule_met else (),
    )


INSTRUMENT = Instrument(
    key="pcl5",
    title="PTSD Checklist for DSM-5 (PCL-5)",
    short_title="PCL-5",
    version="1",
    recall_period="past month",
    instructions="In the past month, how much were you bothered by:",
    items=ITEMS,
    scorer=_score,
    panel_loinc="101697-1",
    total_loinc="101698-9",
    max_total=80,
    cutoff_note="positive at 33 or more",
    trend_cutoff=POSITIVE_AT,
    reliable_change=10,
    clinical_cutoff=POSITIVE_AT,
    source="Weathers FW et al. The PTSD Checklist for DSM-5 (PCL-5). National Center for PTSD, "
    "2013.",
)
