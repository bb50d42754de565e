"""The public web archive: no login (see ``campaigns.archive_views``)."""

from django.urls import path

from campaigns import archive_views
from campaigns.feeds import ArchiveFeed

app_name = "archive"

urlpatterns = [
    path("", archive_views.archive_index, name="index"),
    path("feed.rss", ArchiveFeed(), name="feed"),
    path("<int:campaign_id>/", archive_views.archive_campaign, name="campaign"),
    path("<int:campaign_id>/message.html", archive_views.archive_message, name="message"),
]
