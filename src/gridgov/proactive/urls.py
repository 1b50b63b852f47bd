"""Pages of the proactive app."""

app_name = "proactive"

urlpatterns = []
