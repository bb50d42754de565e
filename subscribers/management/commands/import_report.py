"""``manage.py import_report ID``: print an import's skipped rows as CSV."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subscribers.imports.selectors import problem_report
from subscribers.models import Import


class Command(BaseCommand):
    help = "Print the rows an import skipped, and why, as CSV (row, line, column, value, reason)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("import_id", type=int)

    def handle(self, *args: Any, import_id: int, **options: Any) -> None:
        import_run = Import.objects.filter(pk=import_id).first()
        if import_run is None:
            raise CommandError(f"No import {import_id}.")
        for line in problem_report(import_run):
            self.stdout.write(line, ending="")
