"""Clinical notes views (being written)."""

urlpatterns: list = []
