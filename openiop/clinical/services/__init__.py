"""Clinical writes, one module per area: notes, group_notes, cosign, plans, ur, discharge.

The note and co-signature services are re-exported here, so
``from openiop.clinical.services import note_sign`` keeps working; import the other areas from
their modules.
"""

from openiop.clinical.services.cosign import cosign
from openiop.clinical.services.notes import (
    NoteConflict,
    note_amend,
    note_create_draft,
    note_save_draft,
    note_sign,
)

__all__ = [
    "NoteConflict",
    "cosign",
    "note_amend",
    "note_create_draft",
    "note_save_draft",
    "note_sign",
]
