"""Admin building blocks shared by the apps."""


class ReadOnlyAdminMixin:
    """An admin page people read and never write through: no add, no change, no delete (the
    rows are written by the audited services — the review desk, the payout page, the outbox —
    or are an audit trail). Viewing follows the usual view permission and the admin's own
    queryset. Put it first: `class XAdmin(ReadOnlyAdminMixin, admin.ModelAdmin)`."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
