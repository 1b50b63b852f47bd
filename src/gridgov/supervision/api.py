"""REST API of the supervision app (mounted under /api/v1/)."""

urlpatterns = []
