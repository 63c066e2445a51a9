"""The one error type of the payout services: a machine code, a Chinese message, an HTTP
status the API answers with (the code's, registered in subsidy.codes). HTML views show the
message; API views raise ApiError from it."""

from subsidy import codes


class PayoutError(Exception):
    def __init__(self, code: str, message: str | None = None, status: int | None = None, **extra):
        message = message or codes.text(code)
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = codes.check_status(code, status)
        self.extra = extra


def is_city_staff(user) -> bool:
    reviewer = getattr(user, "reviewer", None) if user is not None else None
    return bool(
        user is not None
        and user.is_authenticated
        and reviewer is not None
        and reviewer.active
        and reviewer.level == "city"
    )
