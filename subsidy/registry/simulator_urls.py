"""The registry simulator, mounted under /registry-sim/ when enabled."""

urlpatterns = []
