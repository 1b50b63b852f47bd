"""Pages of the hotline app."""

app_name = "hotline"

urlpatterns = []
