"""REST API of the big screen, mounted under /api/v1/."""

urlpatterns = []
