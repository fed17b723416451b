"""Display helpers shared by the sync console pages."""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property

from formation_hub.console.timefmt import format_local


def local_time(field: str, description: str, pattern: str = "%d %b %Y %H:%M:%S"):
    """A column showing a stored UTC time in the organisation's zone, with the zone's name."""

    @admin.display(description=description, ordering=field)
    def show(self, obj):
        return format_local(getattr(obj, field), pattern)

    return show


class EstimatedCountPaginator(Paginator):
    """Counts a filtered list; on PostgreSQL, takes the number of rows of an unfiltered big table from the
    planner's statistics (`reltuples`, kept by autovacuum) instead of reading a million rows to count them.
    The page links may then be off by a few pages on the unfiltered list; every filtered list is exact."""

    estimate_over = 10_000

    @cached_property
    def count(self):
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                               [self.object_list.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > self.estimate_over:
                return row[0]
        return super().count
