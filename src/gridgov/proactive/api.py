"""REST API of the proactive app (mounted under /api/v1/)."""

urlpatterns = []
