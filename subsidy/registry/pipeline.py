"""The boundary between submission and the registry check (SPEC §5).

Submission calls `dispatch_check(application_id)` inside its transaction; the check task is
queued when that transaction commits.
"""

from subsidy.tasks_base import send_on_commit


def dispatch_check(application_id: int) -> None:
    try:
        from subsidy.tasks import check_registry
    except ImportError:  # the registry pipeline is not installed in this build
        return
    send_on_commit(check_registry, application_id)
