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


# Notice attachments 2 and 3: rows at or failed at the registry check are seen, read-only, by
# the district / industry union of their subtree and by the city; never by grassroots.
REGISTRY_IN_SCOPE = {"district_a", "city"}


@pytest.mark.parametrize("status", ["pending_chsi", "chsi_failed"])
@pytest.mark.parametrize("role", ROLES)
def test_registry_check_rows_follow_attachment_3(client, users, make_app, tree, role, status):
    row = make_app(
        tree.a1,
        status=status,
        registry_outcome="not_found" if status == "chsi_failed" else "",
        registry_reason="学籍学号未查询到，请检查是否有空格或大小写错误"
        if status == "chsi_failed"
        else "",
        registry_record={"result": "not_found", "number": "2024 4401"}
        if status == "chsi_failed"
        else None,
    )
    client.force_login(users[role])
    seen = role in REGISTRY_IN_SCOPE
    detail = client.get(f"/review/applications/{row.pk}/")
    assert detail.status_code == (200 if seen else 404)
    assert client.get(f"/api/v1/reviews/{row.pk}/").status_code == (200 if seen else 404)
    if role == "applicant":
        return
    listed = client.get(f"/api/v1/reviews/?status={status}").json()["results"]
    assert [r["id"] for r in listed] == ([row.pk] if seen else [])
    page = client.get(f"/review/?status={status}").content.decode()
    assert (f'id="row-{row.pk}"' in page) == seen
    if seen:
        html = detail.content.decode()
        assert 'id="decision"' not in html  # no decision form on a registry-check row
        if status == "chsi_failed":
            assert "学籍学号未查询到" in html and "not_found" in html
        # decisions are refused, by the page and by the API; nothing changes
        r = client.post(f"/api/v1/reviews/{row.pk}/approve/", {"confirm_employed": True})
        assert (r.status_code, r.json()["code"]) == (403, "registry_check_read_only")
        r = client.post(f"/api/v1/reviews/{row.pk}/reject/", {"reason": "不符合"})
        assert (r.status_code, r.json()["code"]) == (403, "registry_check_read_only")
        r = client.post(
            f"/review/applications/{row.pk}/decide/", {"decision": "reject", "reason": "x"}
        )
        assert r.status_code == 403 and "只能查看，不能审核" in r.content.decode()
        r = client.post("/review/batch-approve/", {"ids": str(row.pk)})
        assert r.status_code == 302
    else:
        r = client.post(f"/api/v1/reviews/{row.pk}/reject/", {"reason": "不符合"})
        assert r.status_code == 404
    row.refresh_from_db()
    assert row.status == status


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


# --- Conflict of interest (SPEC §2, issue 17): the reviewer on their own application -------
# The same person is recognised by identity, not only by a linked login: the reviewer
# profile's ID number, its mobile, its link to the member record, or the member's login.
PERSON_BY = ["id_number", "mobile", "link", "login"]
OWN_LEVELS = {  # role → the status at which that level decides (so a slip would succeed)
    "grassroots_a": "pending_grassroots",
    "district_a": "pending_district",
    "city": "pending_city",
}
# Every route that takes an application id, with a payload that WOULD act if it were let in.
OWN_ROUTES = [
    ("get", "/review/applications/{pk}/", None),
    ("post", "/review/applications/{pk}/decide/", {"decision": "approve", "confirm_employed": "on"}),
    ("post", "/review/applications/{pk}/decide/", {"decision": "reject", "reason": "不符合条件"}),
    ("post", "/review/applications/{pk}/reveal/id_number/", None),
    ("post", "/review/applications/{pk}/reveal/bank_account/", None),
    ("get", "/api/v1/reviews/{pk}/", None),
    ("post", "/api/v1/reviews/{pk}/approve/", {"confirm_employed": True}),
    ("post", "/api/v1/reviews/{pk}/reject/", {"reason": "不符合条件"}),
    ("get", "/applications/{pk}/photo/", None),
    ("post", "/payouts/applications/{pk}/revoke/", {"reason": "核查"}),
    ("post", "/payouts/applications/{pk}/account/", {"account": "6222021001115227299", "branch": "天河支行", "reason": "更正"}),
    ("post", "/api/v1/applications/{pk}/revoke/", {"reason": "核查"}),
]  # fmt: skip


def make_same_person(profile, app, by):
    """Make the reviewer `profile` the same person as the applicant of `app`, one way."""
    member = app.member
    if by == "id_number":
        profile.id_number = member.id_number
    elif by == "mobile":
        profile.phone = member.mobile
    elif by == "link":
        profile.member = member
    elif by == "login":
        member.user = profile.user
        member.save()
    profile.save()


@pytest.fixture
def own_app(make_app, tree):
    def make(role, by, users):
        from tests.reviews.conftest import _stored_photo

        app = make_app(tree.a1, status=OWN_LEVELS[role], bank_card_photo=_stored_photo())
        app.member.name = app.name = "回避测试人"
        app.member.save()
        app.save()
        make_same_person(users[role].reviewer, app, by)
        return app

    return make


@pytest.mark.parametrize("by", PERSON_BY)
@pytest.mark.parametrize("role", sorted(OWN_LEVELS))
def test_reviewer_on_own_application_is_404_on_every_route(client, users, own_app, role, by):
    """One row per level × way of being the same person; every route of OWN_ROUTES in it."""
    app = own_app(role, by, users)
    client.force_login(users[role])
    before = app.status
    for method, path, payload in OWN_ROUTES:
        if by == "login" and path.startswith("/applications/"):
            continue  # with the member's own login the photo is the applicant's, theirs to see
        path = path.format(pk=app.pk)
        response = _call(client, method, path, payload, path.startswith("/api/"))
        assert response.status_code == 404, (role, by, path, response.status_code)
        app.refresh_from_db()
        assert app.status == before, (role, by, path)


@pytest.mark.parametrize("by", PERSON_BY)
@pytest.mark.parametrize("role", sorted(OWN_LEVELS))
def test_reviewer_on_own_application_finds_it_in_no_list(client, users, own_app, app_a1, role, by):
    """Queue page, search, export, API list, batch approval and statistics: the own
    application is in none of them, while a colleague's application in the scope is."""
    import io

    import openpyxl

    app = own_app(role, by, users)
    app_a1.status = OWN_LEVELS[role]
    app_a1.save()
    client.force_login(users[role])
    link = f"/review/applications/{app.pk}/"
    page = client.get("/review/", {"status": app.status}).content.decode()
    assert link not in page and f"/review/applications/{app_a1.pk}/" in page
    assert link not in client.get("/review/", {"q": "回避测试人"}).content.decode()
    assert link not in client.get("/review/", {"q": app.mobile}).content.decode()
    rows = openpyxl.load_workbook(io.BytesIO(client.get("/review/export.xlsx").content)).active
    names = {c.value for row in rows.iter_rows() for c in row}
    assert "回避测试人" not in names and app_a1.name in names
    ids = {
        r["id"] for r in client.get("/api/v1/reviews/", {"status": app.status}).json()["results"]
    }
    assert app.pk not in ids and app_a1.pk in ids
    client.post("/review/batch-approve/", {"ids": [app.pk], "confirm_employed": "on"})
    app.refresh_from_db()
    assert app.status == OWN_LEVELS[role]
    from notifications.services import stats

    figures = stats.campaign_stats(app.campaign, users[role])
    assert figures["applications"] == 1  # the colleague's only
    colleague = {"grassroots_a": "city", "district_a": "city", "city": "district_a"}[role]
    assert stats.campaign_stats(app.campaign, users[colleague])["applications"] == 2


def test_the_decision_service_refuses_the_own_application_even_past_the_door(
    users, own_app, monkeypatch
):
    """Defence in depth: were `visible_to` ever to let the row through, the decision service
    asks again on the locked row and refuses."""
    from reviews.services import decisions
    from subsidy.models import ApplicationQuerySet

    app = own_app("district_a", "mobile", users)
    monkeypatch.setattr(ApplicationQuerySet, "visible_to", lambda self, user: self.all())
    with pytest.raises(decisions.NotInScope):
        decisions.approve(users["district_a"], app.pk)
    app.refresh_from_db()
    assert app.status == "pending_district"


def test_an_application_keeps_the_mobile_it_was_submitted_with(client, users, own_app):
    """The member changed mobile after submitting: the reviewer holding the old mobile (the
    one on the application) and the one holding the new mobile are both the same person."""
    from unions.models import ReviewerProfile

    app = own_app("district_a", "mobile", users)
    old = app.mobile
    app.member.mobile = "13712345678"
    app.member.save()
    client.force_login(users["district_a"])
    assert client.get(f"/api/v1/reviews/{app.pk}/").status_code == 404  # by the old mobile
    profile = ReviewerProfile.objects.get(user=users["district_a"])
    profile.phone = "13712345678"
    profile.save()
    assert old != profile.phone
    assert client.get(f"/api/v1/reviews/{app.pk}/").status_code == 404  # by the member's new one
