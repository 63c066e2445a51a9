"""django-import-export resources (the register's XLSX export, also used by the admin)."""

from import_export import fields, resources

from notifications.models import Inquiry


class InquiryResource(resources.ModelResource):
    union = fields.Field(attribute="union__name", column_name="所属工会")
    name = fields.Field(attribute="name", column_name="职工姓名")
    phone = fields.Field(attribute="phone", column_name="联系电话")
    category = fields.Field(attribute="get_category_display", column_name="类别")
    text = fields.Field(attribute="text", column_name="诉求/建议内容")
    answer = fields.Field(attribute="answer", column_name="答复/处理情况")
    status = fields.Field(attribute="get_status_display", column_name="状态")
    created_at = fields.Field(attribute="created_at", column_name="登记时间")
    recorded_by = fields.Field(attribute="recorded_by__username", column_name="登记人")

    class Meta:
        model = Inquiry
        fields = (
            "id",
            "created_at",
            "union",
            "name",
            "phone",
            "category",
            "text",
            "answer",
            "status",
            "recorded_by",
        )
        export_order = (
            "id",
            "created_at",
            "union",
            "name",
            "phone",
            "category",
            "text",
            "answer",
            "status",
            "recorded_by",
        )
