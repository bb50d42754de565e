"""Form helpers shared by the marketer pages.

Django forms only parse input here; the rules live in the services. When a
service rejects the input, its errors must land beside the field they are
about, which is what :meth:`ServiceForm.add_service_error` does.
"""

from __future__ import annotations

from typing import ClassVar

from django import forms
from django.core.exceptions import ValidationError

from campaigns.rendering import FieldAndTemplateErrors, TemplateValidationError


class ServiceForm(forms.Form):
    # Service error keys that name a differently-called form field.
    service_field_aliases: ClassVar[dict[str, str]] = {}
    # Where errors without a field (a plain ValidationError) are shown.
    default_error_field: ClassVar[str | None] = None

    def _target(self, key: str | None) -> str | None:
        if key is None:
            return self.default_error_field
        key = self.service_field_aliases.get(key, key)
        return key if key in self.fields else None

    def add_service_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for key, messages in exc.message_dict.items():
                self.add_error(self._target(key), messages)
        else:
            self.add_error(self.default_error_field, exc.messages)
        self.add_template_problems_of(exc)

    def add_template_problems_of(self, exc: ValidationError) -> None:
        """The template problems a service raised together with field errors."""
        if isinstance(exc, FieldAndTemplateErrors):
            self.add_template_problems(TemplateValidationError(exc.template_problems))

    def add_template_problems(self, exc: TemplateValidationError) -> None:
        """Show each template problem as "Line N: message" beside its field."""
        for problem in exc.problems:
            message = f"Line {problem.line}: {problem.message}" if problem.line else problem.message
            target = self._target(problem.field)
            if target is None:
                message = f"{problem.field}: {message}"
            self.add_error(target, message)


def error_list(exc: ValidationError, *, default_field: str) -> list[dict[str, str]]:
    """A ValidationError as ``[{"field", "message"}]``, what the API and the
    pages' JSON endpoints answer; errors without a field go to ``default_field``."""
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": default_field, "message": message} for message in exc.messages]
