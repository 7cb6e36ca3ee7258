"""Clinical reads, one module per area: notes, group_notes, plans, ur, discharge.

The note selectors are re-exported here; import the other areas from their modules.
"""

from openiop.clinical.selectors.notes import note_get, note_list_for_episode

__all__ = ["note_get", "note_list_for_episode"]
