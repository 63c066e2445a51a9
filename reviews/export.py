"""XLSX export of the reviewer's scoped, filtered list — masked (SPEC §12: no whole ID or
account number in any list)."""

from import_export import fields, resources


class ApplicationExportResource(resources.Resource):
    queue_number = fields.Field(attribute="queue_number", column_name="排队号")
    name = fields.Field(attribute="name", column_name="姓名")
    id_number = fields.Field(attribute="masked_id_number", column_name="身份证号码")
    mobile = fields.Field(attribute="mobile", column_name="手机号码")
    union = fields.Field(attribute="union__name", column_name="所属工会")
    kind = fields.Field(attribute="get_kind_display", column_name="申领类型")
    worker_group = fields.Field(attribute="get_worker_group_display", column_name="所属职工群体")
    job_position = fields.Field(attribute="job_position", column_name="工作岗位")
    account = fields.Field(attribute="masked_account", column_name="银行账号")
    status = fields.Field(attribute="get_status_display", column_name="状态")
    submitted_at = fields.Field(attribute="submitted_at", column_name="提交时间")
    rejection_reason = fields.Field(attribute="rejection_reason", column_name="审核不通过原因")
    registry_reason = fields.Field(
        attribute="registry_reason", column_name="学历接口校核不通过原因"
    )

    class Meta:
        export_order = (
            "queue_number",
            "name",
            "id_number",
            "mobile",
            "union",
            "kind",
            "worker_group",
            "job_position",
            "account",
            "status",
            "submitted_at",
            "rejection_reason",
            "registry_reason",
        )

    def dehydrate_submitted_at(self, app):
        from django.utils import timezone

        return timezone.localtime(app.submitted_at).strftime("%Y-%m-%d %H:%M:%S")


def export_xlsx(queryset) -> bytes:
    # escape: text an applicant typed ("=HYPERLINK(…)" as 工作岗位) stays text, not a formula
    return ApplicationExportResource().export(queryset).export("xlsx", escape=True)
