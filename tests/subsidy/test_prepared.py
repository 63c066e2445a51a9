"""The submission's hot statements run as server-side prepared statements on PostgreSQL
(subsidy.services.prepared), prepared once per connection and again after a reconnect."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from subsidy.models import Application
from subsidy.services import prepared
from tests.subsidy.conftest import post_application

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PREPARE is PostgreSQL's"
)

HOT = ("member_token", "claim_and_insert")


@postgres_only
def test_a_submission_runs_two_statements_both_prepared(api, applicant, campaign, settings):
    """As in production: the reference data and the campaign come from the process's copy.
    (In the tests' own transaction the claim runs in a savepoint, after its SET LOCAL; in a
    request those travel in the claim's one string.)"""
    from subsidy import refcache

    settings.REFERENCE_CACHE_SECONDS, settings.CAMPAIGN_CACHE_SECONDS = 60, 5
    for cache in (refcache.bin_table, refcache.current_commitment, refcache.intake_campaign):
        cache.clear()
    post_application(api, key="warm")  # prepares them on this connection, fills the copies
    Application.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert post_application(api, key="second").status_code == 201
    for cache in (refcache.bin_table, refcache.current_commitment, refcache.intake_campaign):
        cache.clear()
    bookkeeping = ("SAVEPOINT", "RELEASE SAVEPOINT", "SET LOCAL")
    sqls = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(bookkeeping)]
    # the token with the member's attempts and grants (subsidy.api.auth); the claim
    assert len(sqls) == 2, sqls
    executed = [name for name in HOT if any(f"EXECUTE {name}_" in sql for sql in sqls)]
    assert executed == list(HOT)
    assert not any(sql.startswith("PREPARE") for sql in sqls)  # prepared once per connection


@postgres_only
def test_a_new_connection_prepares_them_again(api, applicant, campaign):
    """After a reconnect (CONN_MAX_AGE, a dropped connection) the statements are prepared on
    the new connection before they are executed; the submission does not notice."""
    sql, params = prepared.statement("probe", "SELECT %s::int + 1", [1])
    with connection.cursor() as cur:
        cur.execute(sql, params)
        assert cur.fetchone() == (2,)
        cur.execute("DEALLOCATE ALL")  # what a new session looks like to the server
    prepared._prepared.pop(connection.connection, None)  # … and to this process
    with CaptureQueriesContext(connection) as queries:
        assert post_application(api, key="after").status_code == 201
    prepares = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("PREPARE")]
    assert len(prepares) == len(HOT)


@postgres_only
def test_a_prepared_statement_gives_what_the_plain_one_gives(applicant, campaign):
    from payouts.services.ledger import _granted_year_sql

    params = [applicant.id_hmac, applicant.id_hmac, campaign.pk, campaign.pk]
    with connection.cursor() as cur:
        cur.execute(_granted_year_sql(), params)
        plain = cur.fetchall()
        prepared.execute(cur, "granted_year", _granted_year_sql(), params)
        assert cur.fetchall() == plain
        prepared.execute(
            cur, "granted_year", _granted_year_sql(), [applicant.id_hmac] * 2 + [None] * 2
        )
        assert cur.fetchall() == plain  # an empty ledger either way; a NULL campaign is typed


@postgres_only
def test_a_value_longer_than_its_column_is_refused_not_cut(api, applicant, campaign):
    """The claim-and-insert casts each value to its column's type without the length: a cast
    to varchar(n) would silently cut; the column itself refuses."""
    from django.db import DataError

    from subsidy.services import intake

    sql, fields = intake._claim_and_insert_sql()
    assert "::varchar," in sql and "::varchar(" not in sql
    with pytest.raises(DataError):
        with connection.cursor() as cur:
            cur.execute("SELECT %s::varchar::varchar(4)", ["12345"])  # the cut we avoid…
            assert cur.fetchone() == ("1234",)
            cur.execute("CREATE TEMP TABLE t (v varchar(4))")
            cur.execute("INSERT INTO t SELECT %s::varchar", ["12345"])  # … and the refusal


def test_the_token_join_builds_what_the_orm_builds(applicant):
    """read_token applies the converters the ORM applies: the same values, dates aware."""
    from rest_framework.authtoken.models import Token

    from subsidy.api.auth import read_token

    key = Token.objects.get_or_create(user=applicant.user)[0].key
    token = read_token(key)
    orm = Token.objects.select_related("user__member__union").get(key=key)
    member, expected = token.user.member, orm.user.member
    assert (member.id_number, member.active_since, member.union.name) == (
        expected.id_number,
        expected.active_since,
        expected.union.name,
    )
    assert token.created == orm.created and token.created.tzinfo is not None
