"""Token authentication that reads the applicant's member row and union in the same query as
the token and the user, for the submission endpoint: it needs both, and in the opening rush
each query is paid 6,000 times in a minute. Every other endpoint keeps DRF's own class (the
join would be paid by calls that never read the member)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions

MEMBER = ("user", "user__member", "user__member__union")


class MemberTokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related(*MEMBER).get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
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
