"""Pages (server-rendered, htmx) of this app."""

urlpatterns = []
