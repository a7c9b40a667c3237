"""PostgreSQL: a trigram index for the admin's annotation search on sentence text.

The admin searches ``task__sentence__text`` with ``icontains``, which PostgreSQL runs
as ``UPPER(text::text) LIKE UPPER('%term%')``; a GIN ``gin_trgm_ops`` index on that
expression serves it. ``pg_trgm`` ships with PostgreSQL (contrib) and is a trusted
extension since PostgreSQL 13; where it is not available the index is skipped and the
search still works, only slower. SQLite: nothing to do.
"""

from django.db import migrations

INDEX = "labeling_sentence_text_upper_trgm"


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON labeling_sentence "
        "USING gin ((UPPER(text::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0012_predictions")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
