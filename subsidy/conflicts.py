"""Conflict of interest (SPEC §2): a reviewer never sees nor decides an application of the
same person — same ID number (blind index), same mobile, or a linked login — at any level
and through any route.

A reviewer's login and a member record are linked only when someone makes the link (the
roster import, the reviewer form, migration unions 0004), so the person is recognised by
identity as well: the reviewer profile's mobile and ID number, the member record it is linked
to, and any member record whose login is this user. An application is the person's own when
its member is one of those records, or its ID number or mobile (as submitted) is one of
theirs.

`own_member_ids` is what `Application.objects.visible_to` excludes (one query, and nothing
excluded for the usual reviewer who is not a member, so the scoped queries keep their plans);
`is_own_application` is the decision service's second, independent check on the locked row.
"""

from django.db.models import BooleanField, ExpressionWrapper, Q

from unions.models import Member


def _profile(user):
    return getattr(user, "reviewer", None)


def _members_of_person(user, reviewer) -> Q:
    """The member records that are this person: linked to the login, linked to the reviewer
    profile, or sharing its mobile or ID number."""
    q = Q(user_id=user.pk)
    if reviewer is not None:
        if reviewer.member_id:
            q |= Q(pk=reviewer.member_id)
        if reviewer.phone:
            q |= Q(mobile=reviewer.phone)
        if reviewer.id_hmac:
            q |= Q(id_hmac=reviewer.id_hmac)
    return q


def own_member_ids(user, applications) -> set[int]:
    """Ids of the members whose applications are this person's own: the member records of the
    person, and the members of any application submitted with the person's ID number or
    mobile (an application keeps the mobile it was submitted with, also after the member
    changes it). One query. `applications`: the Application manager to search (the door,
    `ApplicationQuerySet.visible_to`, passes its own — this module does not import the
    models that import it)."""
    if user is None or not user.is_authenticated:
        return set()
    reviewer = _profile(user)
    mine = Member.objects.filter(_members_of_person(user, reviewer)).order_by()
    by_identity = Q(id_hmac__in=mine.values("id_hmac")) | Q(mobile__in=mine.values("mobile"))
    if reviewer is not None and reviewer.id_hmac:
        by_identity |= Q(id_hmac=reviewer.id_hmac)
    if reviewer is not None and reviewer.phone:
        by_identity |= Q(mobile=reviewer.phone)
    theirs = applications.filter(by_identity).order_by().values_list("member_id")
    return set(mine.values_list("pk").union(theirs, all=False).values_list("pk", flat=True))


def is_own_application(user, application) -> bool:
    """Whether `application` belongs to the person signed in as `user`, compared field by
    field with the person's identity: the application's member (as it is now), and the ID
    number and mobile the application was submitted with. One query."""
    reviewer = _profile(user)
    person = _members_of_person(user, reviewer)
    rows = (
        Member.objects.filter(person | Q(pk=application.member_id))
        .annotate(is_person=ExpressionWrapper(person, output_field=BooleanField()))
        .order_by()
        .values_list("pk", "id_hmac", "mobile", "is_person")
    )
    hmacs, mobiles, applicant = set(), set(), None
    if reviewer is not None:
        hmacs |= {reviewer.id_hmac} - {""}
        mobiles |= {reviewer.phone} - {""}
    for pk, id_hmac, mobile, is_person in rows:
        if is_person:
            if pk == application.member_id:
                return True
            hmacs.add(id_hmac)
            mobiles.add(mobile)
        if pk == application.member_id:
            applicant = (id_hmac, mobile)
    submitted = (application.id_hmac, application.mobile)
    return any(
        pair is not None and (pair[0] in hmacs or pair[1] in mobiles)
        for pair in (submitted, applicant)
    )
