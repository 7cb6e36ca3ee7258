"""Clinical ur views (being written)."""

urlpatterns: list = []
