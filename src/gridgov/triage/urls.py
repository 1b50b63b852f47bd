"""Pages of the triage app."""

app_name = "triage"

urlpatterns = []
