"""REST API of the metrics app (mounted under /api/v1/)."""

urlpatterns = []
