"""Union tree: the subtree question ("which members are under this district?") answered by the
materialised path, against a recursive CTE over parent links — the reason for the path
column (unions/models.py). Builds its own tree, removes it afterwards."""

import statistics
import time

from django.db import connection, transaction

from unions.models import Member, Union, UnionLevel

PREFIX = "BENCH树"
DISTRICTS, GRASSROOTS_PER_DISTRICT, NESTED_PER_GRASSROOTS, MEMBERS_PER_UNION = 12, 60, 1, 20


def _build():
    city = Union.objects.create(name=f"{PREFIX}市总", level=UnionLevel.CITY)
    unions = []
    for d in range(DISTRICTS):
        district = Union.objects.create(
            name=f"{PREFIX}区{d}", level=UnionLevel.DISTRICT, parent=city
        )
        for g in range(GRASSROOTS_PER_DISTRICT):
            gr = Union.objects.create(
                name=f"{PREFIX}区{d}基层{g}", level=UnionLevel.GRASSROOTS, parent=district
            )
            unions.append(gr)
            for n in range(NESTED_PER_GRASSROOTS):
                unions.append(
                    Union.objects.create(
                        name=f"{PREFIX}区{d}基层{g}分{n}", level=UnionLevel.GRASSROOTS, parent=gr
                    )
                )
    # members written with bulk_create: the encrypted column is not what is measured here
    rows, i = [], 0
    for u in unions:
        for _ in range(MEMBERS_PER_UNION):
            i += 1
            rows.append(
                Member(
                    name="压测",
                    id_number="",
                    id_hmac=f"bench-{i}",
                    mobile=f"170{i:08d}",
                    union=u,
                    status="active",
                )
            )
    Member.objects.bulk_create(rows, batch_size=5000)
    return city, Union.objects.get(name=f"{PREFIX}区5"), len(unions), len(rows)


CTE = """
WITH RECURSIVE sub(id) AS (
    SELECT id FROM unions_union WHERE id = %s
    UNION ALL
    SELECT u.id FROM unions_union u JOIN sub ON u.parent_id = sub.id
)
SELECT count(*) FROM unions_member m WHERE m.union_id IN (SELECT id FROM sub)
"""


PATH_SQL = """
SELECT count(*) FROM unions_member m JOIN unions_union u ON m.union_id = u.id
WHERE u.path LIKE %s
"""


def _time(fn, repeat=30):
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def _cleanup():
    with transaction.atomic():
        Member.objects.filter(id_hmac__startswith="bench-").delete()
        bench = Union.objects.filter(name__startswith=PREFIX)
        bench.update(parent=None, district=None)  # PROTECT on parent: unlink, then delete
        bench.delete()


def run(report):
    _cleanup()
    city, district, n_unions, n_members = _build()
    try:
        with connection.cursor() as cur:
            cur.execute("ANALYZE unions_union; ANALYZE unions_member")
        expected = Member.objects.filter(union__in=Union.objects.subtree_of(district)).count()

        def by_path():
            return Member.objects.filter(union__in=Union.objects.subtree_of(district)).count()

        def by_path_sql():
            with connection.cursor() as cur:
                cur.execute(PATH_SQL, [district.path + "%"])
                return cur.fetchone()[0]

        def by_cte():
            with connection.cursor() as cur:
                cur.execute(CTE, [district.pk])
                return cur.fetchone()[0]

        assert by_cte() == expected == by_path_sql()
        orm_ms, path_ms, cte_ms = _time(by_path), _time(by_path_sql), _time(by_cte)
        size = f"{n_unions} unions, {n_members} members"
        report.row("tree", f"subtree member count, path via ORM ({size})", orm_ms, "ms")
        report.row("tree", "subtree member count, path, raw SQL", path_ms, "ms")
        report.row("tree", "subtree member count, recursive CTE, raw SQL", cte_ms, "ms")
        report.row("tree", "CTE / path (raw SQL both)", cte_ms / path_ms, "x")
        t = time.perf_counter()
        moved = Union.objects.get(name=f"{PREFIX}区5基层0")
        moved.parent = Union.objects.get(name=f"{PREFIX}区6")
        moved.save()
        report.row(
            "tree",
            "move a grassroots union with its subtree",
            (time.perf_counter() - t) * 1000,
            "ms",
        )
    finally:
        _cleanup()
