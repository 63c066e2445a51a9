"""Token authentication that reads the applicant's member row and union in the same query as
the token and the user, for the submission endpoint: it needs both, and in the opening rush
each query is paid 6,000 times in a minute. The same query reads what the submission's entry
check reads about the member in the campaign open for intake — the statuses of their
attempts (R6) and the year of an earlier grant (R5), `eligibility.submission_facts` — and
leaves them on the member for that check: one round trip to PostgreSQL less per submission
(~0.1 ms of CPU between the web process and the database, a thirtieth of a submission). Every other endpoint keeps DRF's own class (the
join would be paid by calls that never read the member).

The join is DRF's `select_related("user", "user__member", "user__member__union")` written
out once as SQL: the ORM compiled that query and built its four objects on every request,
~2.9 ms of CPU, against ~0.7 ms for the same row read here (bench_intake's submissions are
CPU-bound). The objects are built as the ORM builds them (`Model.from_db`, after the
backend's and each field's converters: dates made aware on SQLite, the ID number decrypted),
linked the way select_related links them."""

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from payouts.services.ledger import _granted_year_sql
from subsidy.refcache import intake_campaign
from subsidy.services import prepared
from unions.models import Member, Union

_PLAN = None


def _plan():
    """(sql, [(model, attnames, converters)], facts) for token ⋈ user ⟕ member ⟕ union; with
    `facts` (PostgreSQL) followed by the member's submission facts in the campaign given as
    the first three parameters."""
    global _PLAN
    if _PLAN is None:
        quote = connection.ops.quote_name
        models = [
            ("t", Token),
            ("u", get_user_model()),
            ("m", Member),
            ("n", Union),
        ]
        columns, shapes = [], []
        for alias, model in models:
            fields = model._meta.concrete_fields
            columns += [f"{alias}.{quote(f.column)}" for f in fields]
            converters = []  # what the ORM's compiler applies: the backend's, then the field's
            for i, f in enumerate(fields):
                col = f.get_col(alias)
                found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if found:
                    converters.append((i, col, found))
            shapes.append((model, [f.attname for f in fields], converters))
        table = {alias: quote(model._meta.db_table) for alias, model in models}
        from subsidy.models import Application

        facts = connection.vendor == "postgresql"
        if facts:
            statuses = (
                f"ARRAY(SELECT a.status FROM {quote(Application._meta.db_table)} a "
                "WHERE a.member_id = m.id AND a.campaign_id = CAST(%s AS bigint))"
            )
            granted = _granted_year_sql("m.id_hmac").strip().removesuffix(";")
            columns += [statuses, f"({granted})"]
        sql = (
            f"SELECT {', '.join(columns)} FROM {table['t']} t "
            f"JOIN {table['u']} u ON u.id = t.user_id "
            f"LEFT JOIN {table['m']} m ON m.user_id = u.id "
            f"LEFT JOIN {table['n']} n ON n.id = m.union_id "
            "WHERE t.key = %s"
        )
        _PLAN = (sql, shapes, facts)
    return _PLAN


def _build(db, model, attnames, converters, values):
    values = list(values)
    for i, col, functions in converters:
        for convert in functions:
            values[i] = convert(values[i], col, db)
    return model.from_db(db.alias, attnames, values)


def read_token(key: str):
    """The token with its user, and the user's member with its union (or no member), in one
    query; None when no such token."""
    sql, shapes, facts = _plan()
    db = connections[DEFAULT_DB_ALIAS]  # this thread's (the `connection` proxy looks it up)
    campaign_pk = intake_campaign.get_pk() if facts else None
    params = [campaign_pk] * 3 + [key] if facts else [key]
    with db.cursor() as cur:
        prepared.execute(cur, "member_token", sql, params)
        row = cur.fetchone()
    if row is None:
        return None
    objects, start = [], 0
    for model, attnames, converters in shapes:
        end = start + len(attnames)
        part = row[start:end]
        objects.append(None if part[0] is None else _build(db, model, attnames, converters, part))
        start = end
    token, user, member, union = objects
    token.user = user
    if member is None:
        Member.user.field.remote_field.set_cached_value(user, None)  # user.member: no query
    else:
        member.union = union
        member.user = user  # and user.member, as select_related sets both
        if campaign_pk is not None:
            statuses, granted = row[start:]
            member._submission_facts = (campaign_pk, statuses, granted)
    return token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's, refusing a key that cannot be one (ours are 40 hex digits) before the database
    sees it: a NUL in the header was a DataError, a 500."""

    def authenticate_credentials(self, key):
        if not (key.isascii() and key.isalnum() and len(key) <= 64):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(key)


class MemberTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        if not (key.isascii() and key.isalnum() and len(key) <= 64):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token = read_token(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


class MemberTokenScheme(OpenApiAuthenticationExtension):
    """The same `Authorization: Token <key>` header as DRF's class, under its own name."""

    target_class = MemberTokenAuthentication
    name = "memberTokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
