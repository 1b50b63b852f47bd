"""Pages of the supervision app."""

app_name = "supervision"

urlpatterns = []
