from django.contrib import admin

from media.models import MediaFile


@admin.register(MediaFile)
class MediaFileAdmin(admin.ModelAdmin):
    list_display = ("original_name", "name", "content_type", "width", "height", "size")
    search_fields = ("original_name", "name")
    readonly_fields = tuple(f.name for f in MediaFile._meta.fields)
