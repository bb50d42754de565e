"""Parsing the live preview's POST: the campaign form's fields as typed so far."""

from __future__ import annotations

from django import forms

from campaigns.models import Campaign, Template
from subscribers.models import MailingList


class LivePreviewForm(forms.Form):
    # Names as in CampaignForm, so the editor posts the form as it is.
    subject = forms.CharField(max_length=998, required=False, strip=False)
    preheader = forms.CharField(max_length=255, required=False)
    editor = forms.ChoiceField(choices=Campaign.Editor.choices, required=False)
    source = forms.CharField(required=False, strip=False)
    html = forms.CharField(required=False, strip=False)
    text = forms.CharField(required=False, strip=False)
    template = forms.ModelChoiceField(queryset=Template.objects.all(), required=False)
    lists = forms.ModelMultipleChoiceField(queryset=MailingList.objects.all(), required=False)
    # The campaign being edited (none while creating one): its name, id and signed links.
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.all(), required=False)
    # Whom to preview as; neither: the sample subscriber.
    email = forms.CharField(max_length=320, required=False)
    subscriber = forms.IntegerField(required=False, min_value=1)

    def clean_editor(self) -> str:
        return self.cleaned_data["editor"] or Campaign.Editor.HTML
