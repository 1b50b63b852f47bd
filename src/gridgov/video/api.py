"""REST API of the video app (mounted under /api/v1/)."""

urlpatterns = []
