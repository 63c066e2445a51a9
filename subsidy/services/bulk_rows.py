"""Writing many rows of plain values at once, for the steps that move thousands of
applications in one go (allocation's audit records and notices).

`bulk_create` builds a model instance per row and prepares every field of every row in
Python: for the first allocation of a large campaign (100,000 moved rows, each with an audit
record and a notice) that alone took tens of seconds. Here the caller hands plain tuples in
the column order it names; PostgreSQL receives them through `COPY … FROM STDIN`. Primary keys,
when the caller needs them, are drawn from the table's sequence beforehand, so the rows are
written with the keys already known. Other databases (SQLite in development) get one
`executemany` INSERT, each value prepared by its model field.

Values are what the model field takes: str, int, bool, None, datetime, UUID; a JSON field's
value is dumped to its JSON text.
"""

import json

from django.db import connection


def next_ids(model, count: int) -> list[int]:
    """Draw `count` primary keys from the table's sequence (PostgreSQL)."""
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cur:
        cur.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk, count],
        )
        return [row[0] for row in cur.fetchall()]


def insert_rows(model, columns: list[str], rows: list[tuple], with_ids: bool = False):
    """Insert `rows` (tuples in the order of `columns`) in the caller's transaction.
    With `with_ids`, return the new primary keys in the order of `rows`."""
    if not rows:
        return []
    table = model._meta.db_table
    quote = connection.ops.quote_name
    ids = None
    if with_ids and connection.vendor == "postgresql":
        ids = next_ids(model, len(rows))
        columns = [model._meta.pk.column, *columns]
        rows = [(pk, *row) for pk, row in zip(ids, rows, strict=True)]
    names = ", ".join(quote(c) for c in columns)
    by_column = {f.column: f for f in model._meta.concrete_fields}
    fields = [by_column[c] for c in columns]
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            json_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
            with cur.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = json.dumps(row[i], ensure_ascii=False)
                    copy.write_row(row)
            return ids or []
        # Elsewhere (SQLite, development): each value as its model field stores it.
        rows = [
            [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
            for row in rows
        ]
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        per_statement = max(1, 999 // len(columns))  # SQLite's bound-parameter limit
        new_ids = []
        for i in range(0, len(rows), per_statement):
            chunk = rows[i : i + per_statement]
            cur.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES {', '.join([marks] * len(chunk))}"
                f" RETURNING {quote(model._meta.pk.column)}",
                [v for row in chunk for v in row],
            )
            # Keys grow in insertion order; RETURNING's own order is unspecified.
            new_ids.extend(sorted(r[0] for r in cur.fetchall()))
        return new_ids if with_ids else []
