"""Clinical plans views (being written)."""

urlpatterns: list = []
