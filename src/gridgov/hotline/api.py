"""REST API of the hotline app (mounted under /api/v1/)."""

urlpatterns = []
