"""Permission matrix (SPEC §1, §12; STYLE "one door"): every role × every reviewer route,
generated from one table. In scope → the route answers (200, or its non-404 refusal for a
harmless POST); outside → 404. A route in `reviews/urls.py` or `reviews/api_urls.py` that is
missing from ROUTES fails `test_every_review_route_is_in_the_matrix`, and a row whose path no
longer resolves fails loudly."""

import pytest
from django.urls import Resolver404, resolve

from reviews import api_urls
from reviews import urls as review_urls
from tests.factories import ApplicationFactory

ROLES = [
    "applicant",
    "grassroots_a",
    "grassroots_b",
    "district_a",
    "district_other",
    "industry",
    "city",
]
# Who sees an application of union a1 (越秀区甲公司工会) that passed the registry check.
IN_SCOPE = {"grassroots_a", "district_a", "city"}
REVIEWERS = set(ROLES) - {"applicant"}

# (route name, method, path, payload, in-scope status, roles that count as in scope)
# `{pk}` is the application; rows without {pk} are per-role pages.
ROUTES = [
    ("reviews:dashboard", "get", "/review/", None, 200, REVIEWERS),
    ("reviews:export", "get", "/review/export.xlsx", None, 200, REVIEWERS),
    ("reviews:batch_approve", "post", "/review/batch-approve/", {"ids": "{pk}"}, 302, REVIEWERS),
    ("reviews:detail", "get", "/review/applications/{pk}/", None, 200, IN_SCOPE),
    # reject without a reason: refused (400) in scope, 404 outside; nothing changes.
    ("reviews:decide", "post", "/review/applications/{pk}/decide/", {"decision": "reject"}, 400, IN_SCOPE),
    ("reviews:reveal", "post", "/review/applications/{pk}/reveal/id_number/", None, 200, IN_SCOPE),
    ("reviews:reveal", "post", "/review/applications/{pk}/reveal/bank_account/", None, 200, IN_SCOPE),
    ("api-reviews", "get", "/api/v1/reviews/", None, 200, REVIEWERS),
    ("api-review-detail", "get", "/api/v1/reviews/{pk}/", None, 200, IN_SCOPE),
    # a stale expected_status: 409 in scope whatever the level, 404 outside; nothing changes.
    ("api-review-approve", "post", "/api/v1/reviews/{pk}/approve/", {"confirm_employed": True, "expected_status": "stale"}, 409, IN_SCOPE),
    ("api-review-reject", "post", "/api/v1/reviews/{pk}/reject/", {"reason": ""}, 400, IN_SCOPE),
    ("photo", "get", "/applications/{pk}/photo/", None, 200, IN_SCOPE | {"applicant"}),
]  # fmt: skip
# Pages for reviewer managers only: covered in test_reviewer_management.py.
MANAGER_ONLY = {"reviews:reviewers", "reviews:reviewer_remove"}
# Sign-in and password reset pages are public.
PUBLIC = {
    "reviews:login",
    "reviews:logout",
    "reviews:password_reset",
    "reviews:password_reset_done",
    "reviews:password_reset_confirm",
    "reviews:password_reset_complete",
}


def _route_names(row):
    return row.values[0] if hasattr(row, "values") else row[0]


def test_every_review_route_is_in_the_matrix():
    html = {f"reviews:{p.name}" for p in review_urls.urlpatterns}
    api = {p.name for p in api_urls.urlpatterns}
    covered = {_route_names(r) for r in ROUTES} | MANAGER_ONLY | PUBLIC
    assert (html | api) - covered == set()


@pytest.fixture
def users(reviewers, app_a1):
    return {
        "applicant": app_a1.member.user,
        "grassroots_a": reviewers.grassroots_a.user,
        "grassroots_b": reviewers.grassroots_b.user,
        "district_a": reviewers.district_yuexiu.user,
        "district_other": reviewers.district_haizhu.user,
        "industry": reviewers.industry.user,
        "city": reviewers.city.user,
    }


def _call(client, method, path, payload, api):
    if method == "get":
        return client.get(path)
    if api:
        return client.post(path, payload or {}, content_type="application/json")
    return client.post(path, payload or {})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name,method,path,payload,ok_status,scope", ROUTES)
def test_matrix(client, users, app_a1, role, name, method, path, payload, ok_status, scope):
    path = path.format(pk=app_a1.pk)
    try:
        resolve(path)
    except Resolver404:
        pytest.fail(f"route {path} does not exist")
    if payload:
        payload = {
            k: (v.format(pk=app_a1.pk) if isinstance(v, str) else v) for k, v in payload.items()
        }
    client.force_login(users[role])
    before = app_a1.status
    response = _call(client, method, path, payload, path.startswith("/api/"))
    expected = ok_status if role in scope else 404
    assert response.status_code == expected, (role, path, response.status_code)
    app_a1.refresh_from_db()
    assert app_a1.status == before


@pytest.mark.parametrize("role", ROLES)
def test_applications_at_the_registry_check_are_invisible_to_every_reviewer(
    client, users, make_app, tree, role
):
    hidden = make_app(tree.a1, status="pending_chsi")
    client.force_login(users[role])
    assert client.get(f"/review/applications/{hidden.pk}/").status_code == 404
    assert client.get(f"/api/v1/reviews/{hidden.pk}/").status_code == 404


def test_anonymous_is_sent_to_sign_in_or_refused(client, app_a1):
    assert client.get("/review/").status_code == 302
    assert client.get(f"/review/applications/{app_a1.pk}/").url.startswith("/review/login/")
    assert client.get("/api/v1/reviews/").status_code in (401, 403)


def test_reviewer_does_not_see_own_application(client, reviewers, tree, campaign):
    """A grassroots reviewer who is also a member of the union cannot review themself."""
    from tests.factories import MemberFactory

    me = reviewers.grassroots_a
    member = MemberFactory(union=tree.a1, user=me.user)
    own = ApplicationFactory(campaign=campaign, member=member)
    client.force_login(me.user)
    assert client.get(f"/review/applications/{own.pk}/").status_code == 404


def test_reviewer_without_review_permission_sees_nothing(client, reviewers, app_a1):
    profile = reviewers.grassroots_a
    profile.can_review = False
    profile.save()
    client.force_login(profile.user)
    assert client.get(f"/api/v1/reviews/{app_a1.pk}/").status_code == 404
