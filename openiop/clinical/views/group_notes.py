"""Clinical group_notes views (being written)."""

urlpatterns: list = []
