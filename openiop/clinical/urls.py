"""Clinical record URLs. Each area keeps its own routes beside its views (``views/<area>.py``)."""

from openiop.clinical.views import discharge, group_notes, notes, plans, ur

app_name = "clinical"

urlpatterns = [
    *notes.urlpatterns,
    *group_notes.urlpatterns,
    *plans.urlpatterns,
    *ur.urlpatterns,
    *discharge.urlpatterns,
]
