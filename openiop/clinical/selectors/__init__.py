"""Clinical reads, one module per area: notes, group_notes, plans, ur, discharge.

The note selectors (and the co-signature queue) are re-exported here; import the other areas
from their modules.
"""

from openiop.clinical.selectors.notes import (
    CosignItem,
    cosign_queue,
    episode_for_notes,
    note_amendments,
    note_get,
    note_list_for_episode,
    notes_visible_to,
)

__all__ = [
    "CosignItem",
    "cosign_queue",
    "episode_for_notes",
    "note_amendments",
    "note_get",
    "note_list_for_episode",
    "notes_visible_to",
]
