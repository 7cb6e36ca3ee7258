"""Aftercare URLs (the routes live beside their views in ``views.py``)."""

from openiop.aftercare.views import urlpatterns

app_name = "aftercare"

__all__ = ["app_name", "urlpatterns"]
