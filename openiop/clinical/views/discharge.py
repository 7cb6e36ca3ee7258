"""Clinical discharge views (being written)."""

urlpatterns: list = []
