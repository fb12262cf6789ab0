"""The site's URLs plus the ownership floor page (bench only, never routed in the product)."""

from django.urls import path

from bench.ownership_bench import _floor_map
from cxgov.urls import urlpatterns as site

urlpatterns = [path("bench-floor/ownership/", _floor_map), *site]
