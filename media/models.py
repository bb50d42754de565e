from __future__ import annotations

from django.conf import settings
from django.db import models


class MediaFile(models.Model):
    """An uploaded image, stored under the hash of its bytes (``name``).

    The name never changes for given bytes, so its URL can be cached for good;
    uploading the same image twice gives the same file.
    """

    name = models.CharField(max_length=100, unique=True)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.original_name
