"""Pages of the video app."""

app_name = "video"

urlpatterns = []
