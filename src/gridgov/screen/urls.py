"""Pages of the big screen (/screen/)."""

urlpatterns = []
