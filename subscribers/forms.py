from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from postino.forms import ServiceForm
from subscribers.browse import SubscriberFilter
from subscribers.models import BulkAction, Import, MailingList, Subscriber, Subscription


class ListForm(ServiceForm):
    name = forms.CharField(max_length=200)
    optin = forms.ChoiceField(
        label="Opt-in",
        choices=MailingList.OptIn.choices,
        initial=MailingList.OptIn.SINGLE,
        widget=forms.RadioSelect,
        help_text="Double opt-in lists wait for subscribers to confirm by email.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(
        label="Public: subscribers may join it from their preference page",
        required=False,
    )
    confirmation_subject = forms.CharField(
        label="Confirmation email: subject",
        max_length=998,
        required=False,
        help_text="Empty: “Confirm your subscription to <list>”. Jinja, like campaigns.",
    )
    confirmation_html = forms.CharField(
        label="Confirmation email: body (HTML)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code", "spellcheck": "false"}),
        help_text="Empty: Postino's wording. Variables: subscriber.email, subscriber.name, "
        "subscriber.attributes, list.name, list.description, reminder (true in the one "
        "reminder) and confirm_url, which the email must contain.",
    )

    default_error_field = "name"


class SubscriberForm(ServiceForm):
    # A CharField, not an EmailField: the service decides what a valid address
    # is, and its message is the one shown.
    email = forms.CharField(max_length=320, widget=forms.EmailInput(attrs={"autofocus": True}))
    name = forms.CharField(max_length=200, required=False)
    attributes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": '{"city": "Lisbon"}'}),
        help_text="A JSON object; templates see it as subscriber.attributes.",
    )
    lists = forms.ModelMultipleChoiceField(
        queryset=MailingList.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    preconfirm = forms.BooleanField(
        required=False,
        label="Preconfirm",
        help_text="Skip the confirmation email on double opt-in lists.",
    )

    default_error_field = "email"

    def clean_attributes(self) -> Any:
        raw = self.cleaned_data["attributes"].strip()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}."
            ) from exc


STATUS_FILTERS = [
    ("", "Any status"),
    *Subscription.Status.choices,
    (Subscriber.Status.BLOCKLISTED, "Blocklisted"),
]


class SubscriberSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search by email or name")
    list = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    segment = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        lists: Sequence[tuple[int, str]],
        segments: Sequence[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        # Choices read once by the view, and shared with the bulk action form.
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["list"], [("", "Any list"), *lists])
        _set_choices(self.fields["segment"], [("", "Any segment"), *segments])

    def filters(self) -> SubscriberFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return SubscriberFilter(
            query=(data.get("q") or "").strip(),
            list_id=data.get("list"),
            status=data.get("status") or "",
            segment_id=data.get("segment"),
        )


def _set_choices(field: forms.Field, choices: Sequence[tuple[Any, str]]) -> None:
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class BulkActionForm(forms.Form):
    kind = forms.ChoiceField(label="Action", choices=BulkAction.Kind.choices)
    mailing_list = forms.TypedChoiceField(
        label="List", coerce=int, required=False, empty_value=None
    )
    confirm = forms.BooleanField(
        label="Yes, apply it to every subscriber these filters match", required=True
    )
    q = forms.CharField(required=False, widget=forms.HiddenInput)
    list = forms.IntegerField(required=False, widget=forms.HiddenInput)
    status = forms.CharField(required=False, widget=forms.HiddenInput)
    segment = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, lists: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self.fields["mailing_list"], [("", "— the list —"), *lists])

    def chosen_list(self) -> MailingList | None:
        pk = self.cleaned_data.get("mailing_list")
        return MailingList.objects.filter(pk=pk).first() if pk is not None else None

    def filters(self) -> SubscriberFilter:
        data = self.cleaned_data
        return SubscriberFilter(
            query=(data.get("q") or "").strip(),
            list_id=data.get("list"),
            status=data.get("status") or "",
            segment_id=data.get("segment"),
        )


class MembersFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[("", "All statuses"), *Subscription.Status.choices],
    )
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)


class SubscriberEditForm(SubscriberForm):
    status = forms.ChoiceField(
        choices=Subscriber.Status.choices,
        widget=forms.RadioSelect,
        help_text="Blocklisted subscribers receive no campaign, whatever their lists.",
    )

    field_order = ["email", "name", "attributes", "status", "lists", "preconfirm"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "lists"
        ].help_text = (
            "Unticking a list unsubscribes them from it; the subscription's history is kept."
        )
        self.fields[
            "preconfirm"
        ].help_text = "For lists ticked now: skip the confirmation email on double opt-in lists."

    @classmethod
    def for_subscriber(cls, subscriber: Subscriber) -> SubscriberEditForm:
        active = subscriber.subscriptions.exclude(status=Subscription.Status.UNSUBSCRIBED)
        return cls(
            initial={
                "email": subscriber.email,
                "name": subscriber.name,
                "attributes": json.dumps(subscriber.attributes, indent=2, ensure_ascii=False)
                if subscriber.attributes
                else "",
                "status": subscriber.status,
                "lists": [s.mailing_list_id for s in active],
            }
        )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Comma, semicolon or tab separated; UTF-8, Latin-1 or Windows-1252; "
        "gzip or ZIP compressed files too. The next page shows how it will be read.",
    )


class ImportOptionsForm(ServiceForm):
    """The import's options and its column mapping (``col-<n>-target/key/type``)."""

    mode = forms.ChoiceField(
        choices=Import.Mode.choices, widget=forms.RadioSelect, initial=Import.Mode.SUBSCRIBE
    )
    lists = forms.ModelMultipleChoiceField(
        queryset=MailingList.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    subscription_status = forms.ChoiceField(
        label="Subscription status",
        choices=[
            (Subscription.Status.CONFIRMED, "Confirmed: they agreed to receive these lists"),
            (
                Subscription.Status.UNCONFIRMED,
                "Unconfirmed: double opt-in lists email each new person a confirmation link",
            ),
            (Subscription.Status.UNSUBSCRIBED, "Unsubscribed: record opt-outs from another tool"),
        ],
        widget=forms.RadioSelect,
    )
    overwrite = forms.BooleanField(
        required=False,
        label="Replace existing names and attributes",
        help_text="Unticked, the file only fills in what existing subscribers lack.",
    )
    has_header = forms.BooleanField(required=False, label="The first row names the columns")

    default_error_field = "mode"

    def __init__(self, *args: Any, mapping: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.columns = mapping

    def mapping(self) -> list[dict[str, Any]]:
        """The mapping as posted (validated by the service, which names problems)."""
        entries = []
        for index, column in enumerate(self.columns):
            prefix = f"col-{index}-"
            entry: dict[str, Any] = {
                "header": column["header"],
                "target": self.data.get(prefix + "target", column["target"]),
            }
            if entry["target"] == "attribute":
                entry["key"] = self.data.get(prefix + "key", column.get("key", "")).strip()
                entry["type"] = self.data.get(prefix + "type", column.get("type", "text"))
            entries.append(entry)
        return entries


class SegmentForm(ServiceForm):
    name = forms.CharField(max_length=200, required=False)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only your team sees this.",
    )
    # The builder (static/js/segments.js) writes this field; without JavaScript
    # it is the JSON itself, as the API takes it.
    definition = forms.CharField(
        label="Conditions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text='JSON: {"match": "all" or "any", "conditions": [{"field", "op", "value"}, …]}',
    )

    default_error_field = "definition"

    def clean_definition(self) -> Any:
        raw = self.cleaned_data.get("definition") or ""
        if not raw.strip():
            return {"match": "all", "conditions": []}
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"Line {exc.lineno}, column {exc.colno}: {exc.msg}."
            ) from exc

    def add_service_error(self, exc: ValidationError) -> None:
        # Condition problems ("conditions.2.value") belong to the builder's rows;
        # the view hands them to it too. Here each reads with its place.
        if hasattr(exc, "error_dict"):
            for key, messages in exc.message_dict.items():
                if key.startswith(("conditions", "match", "definition")):
                    place = condition_place(key)
                    self.add_error(
                        "definition", [f"{place}: {m}" if place else m for m in messages]
                    )
                else:
                    self.add_error(self._target(key), messages)
            return
        super().add_service_error(exc)


def condition_place(key: str) -> str:
    """'conditions.2.conditions.1.value' -> 'Condition 2.1 (value)'."""
    parts = key.split(".")
    numbers = [p for p in parts if p.isdigit()]
    if not numbers:
        return "" if key in ("conditions", "definition") else key.capitalize()
    last = parts[-1]
    detail = f" ({last})" if not last.isdigit() else ""
    return f"Condition {'.'.join(numbers)}{detail}"
