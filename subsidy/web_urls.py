"""URL patterns of this part of the system."""

urlpatterns = []
