"""Roster import (notice attachment 4: 基层工会管理员账号汇总表) through django-import-export.

Columns: 序号, 姓名, 手机号, 邮箱, 所属工会, 审核工会名称, and optionally 身份证号码. Each row
creates or updates a login (username = the e-mail, no usable password: the admin sets one
through the password-reset flow) and its ReviewerProfile, whose level follows the 审核工会's
level and which manages that union. When the row's mobile or ID number is a member's, the
account is linked to that member record (conflict of interest, SPEC §2: the person never sees
their own application) and the report says so, row by row (`links`). The 审核工会名称 must match a union registered on the platform exactly. A file with
any bad row saves nothing: rows are validated one by one and reported with the field named,
and the whole import runs in one transaction that is rolled back on any error.
"""

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from import_export import fields, resources

from unions.models import Member, ReviewerLevel, ReviewerProfile, Union, UnionLevel
from unions.pii import blind_index, mask_phone
from unions.validators import clean_id_number, clean_mobile, normalise_input

COLUMNS = ("序号", "姓名", "手机号", "邮箱", "所属工会", "审核工会名称")
OPTIONAL_COLUMNS = ("身份证号码",)

LEVEL_OF_UNION = {
    UnionLevel.CITY: ReviewerLevel.CITY,
    UnionLevel.DISTRICT: ReviewerLevel.DISTRICT,
    UnionLevel.INDUSTRY: ReviewerLevel.DISTRICT,
    UnionLevel.GRASSROOTS: ReviewerLevel.GRASSROOTS,
}


def _canonical_header(value) -> str:
    """'审核工会名称\n(注意:必须名称与粤工惠上登记的一致)' → '审核工会名称'."""
    text = normalise_input(str(value or ""))
    text = re.split(r"[（(<\n]", text, maxsplit=1)[0].strip()
    if text == "身份证号":
        return "身份证号码"
    for column in COLUMNS + OPTIONAL_COLUMNS:
        if text.startswith(column):
            return column
    return text


def _cell(row, column) -> str:
    value = row.get(column)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn 13800000001 into 13800000001.0
    return normalise_input(str(value))


def normalise_roster(dataset) -> None:
    """Bring the union's spreadsheet into one header row and data rows, in place.

    The template has a title row and a two-row header (审核工会名称 sits in a merged cell
    above 序号's row); rows that are blank apart from 序号 are the template's empty lines."""
    headers = [_canonical_header(h) for h in (dataset.headers or [])]
    rows = [list(r) for r in dataset]
    if "序号" not in headers or "姓名" not in headers:
        above = headers
        for i, r in enumerate(rows[:10]):
            names = [_canonical_header(c) for c in r]
            if "序号" in names and "姓名" in names:
                filled = []
                for j, name in enumerate(names):
                    if not name:
                        # take the merged cell's text from the rows above
                        candidates = [above[j] if j < len(above) else ""] + [
                            _canonical_header(rows[k][j]) for k in range(i)
                        ]
                        name = next((c for c in reversed(candidates) if c in COLUMNS), "")
                    filled.append(name or f"_{j}")
                headers, rows = filled, rows[i + 1 :]
                break
    keep = [
        r
        for r in rows
        if any(
            normalise_input(str(v or "")) for h, v in zip(headers, r, strict=False) if h != "序号"
        )
    ]
    dataset.wipe()
    dataset.headers = headers
    for r in keep:
        dataset.append(r)


class RosterResource(resources.ModelResource):
    seq = fields.Field(column_name="序号", attribute=None, readonly=True)
    name = fields.Field(column_name="姓名", attribute="name")
    phone = fields.Field(column_name="手机号", attribute="phone")
    email = fields.Field(column_name="邮箱", attribute="email")
    affiliation = fields.Field(column_name="所属工会", attribute="affiliation")
    review_union = fields.Field(column_name="审核工会名称", attribute=None)

    class Meta:
        model = ReviewerProfile
        fields = ("seq", "name", "phone", "email", "affiliation", "review_union")
        import_id_fields = ("email",)
        use_transactions = True
        skip_unchanged = False
        clean_model_instances = False

    # --- export ---------------------------------------------------------------------------
    def dehydrate_seq(self, profile):
        return profile.pk

    def dehydrate_review_union(self, profile):
        return "；".join(u.name for u in profile.managed_unions.all())

    # --- import ---------------------------------------------------------------------------
    def import_data(self, dataset, *args, **kwargs):
        # Any invalid row rolls the whole file back, also when the admin confirms.
        kwargs["rollback_on_validation_errors"] = True
        kwargs["use_transactions"] = True
        return super().import_data(dataset, *args, **kwargs)

    def before_import(self, dataset, **kwargs):
        normalise_roster(dataset)
        missing = [c for c in COLUMNS[1:] if c not in dataset.headers]
        if missing:
            raise ValidationError(
                "花名册缺少列：" + "、".join(missing) + "（应为：" + "、".join(COLUMNS) + "）"
            )
        self._emails_in_file = {}
        self._phones_in_file = {}
        self.links = []  # (row number, message): accounts linked to their member record

    def get_instance(self, instance_loader, row):
        email = _cell(row, "邮箱").lower()
        if not email:
            return None
        return ReviewerProfile.objects.filter(user__username=email).select_related("user").first()

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        name = _cell(row, "姓名")
        if not name:
            errors["姓名"] = "姓名：请填写"
        try:
            phone = clean_mobile(_cell(row, "手机号"))
        except ValidationError as exc:
            phone = ""
            errors["手机号"] = f"手机号：{exc.messages[0]}"
        email = _cell(row, "邮箱").lower()
        try:
            if not email:
                raise ValidationError("请填写邮箱")
            validate_email(email)
        except ValidationError:
            errors["邮箱"] = f"邮箱：「{email}」不是有效的邮箱地址" if email else "邮箱：请填写"
        affiliation = _cell(row, "所属工会")
        if not affiliation:
            errors["所属工会"] = "所属工会：请填写"
        union_name = _cell(row, "审核工会名称")
        union = Union.objects.filter(name=union_name).first() if union_name else None
        if not union_name:
            errors["审核工会名称"] = "审核工会名称：请填写"
        elif union is None:
            errors["审核工会名称"] = (
                f"审核工会名称：「{union_name}」与平台登记的工会名称不一致（须完全一致）"
            )
        elif not union.registered:
            errors["审核工会名称"] = f"审核工会名称：「{union_name}」尚未在平台注册"
        if phone and "手机号" not in errors:
            other = (
                ReviewerProfile.objects.filter(phone=phone).exclude(user__username=email).first()
            )
            seen = self._phones_in_file.get(phone)
            if other is not None or (seen and seen != email):
                errors["手机号"] = f"手机号：{phone} 已被其他审核员使用"
        id_number = _cell(row, "身份证号码")
        if id_number:
            try:
                id_number = clean_id_number(id_number)
            except ValidationError as exc:
                errors["身份证号码"] = f"身份证号码：{exc.messages[0]}"
        if errors:
            raise ValidationError(errors)
        self._phones_in_file[phone] = email
        if id_number:
            instance.id_number = id_number
        self._link_member(instance, phone, id_number, kwargs.get("row_number"))
        instance.name, instance.phone, instance.email = name, phone, email
        instance.affiliation = affiliation
        level = LEVEL_OF_UNION[union.level]
        if instance.pk and instance.level and instance.level != level:
            instance.level = _higher(instance.level, level)
        else:
            instance.level = level
        instance.can_review = True
        instance.can_manage_reviewers = True
        instance.active = True
        instance._roster_union = union

    def _link_member(self, instance, phone, id_number, number):
        """Link the account to the member who is the same person (same ID number, else the
        same mobile), and note it for the report."""
        by_id = Member.objects.filter(id_hmac=blind_index(id_number)).first() if id_number else None
        by_phone = Member.objects.filter(mobile=phone).first() if phone else None
        member = by_id or by_phone
        if member is None:
            return
        reasons = [
            label
            for label, found in (("身份证号码", by_id), ("手机号", by_phone))
            if found is not None and found.pk == member.pk
        ]
        if instance.member_id != member.pk:
            instance.member = member
            self.links.append(
                (
                    number,
                    f"{member.name}（{mask_phone(member.mobile)}）："
                    f"{'、'.join(reasons)}与会员记录一致，关联为本人会员记录"
                    "（本人的申领对该审核账号不可见）",
                )
            )
        if by_phone is not None and by_id is not None and by_phone.pk != by_id.pk:
            self.links.append(
                (
                    number,
                    f"手机号 {mask_phone(phone)} 属于另一会员（{by_phone.name}），"
                    "该会员的申领对此账号同样不可见，请核对",
                )
            )

    def after_import(self, dataset, result, **kwargs):
        result.links = list(getattr(self, "links", []))
        super().after_import(dataset, result, **kwargs)

    def before_save_instance(self, instance, row, **kwargs):
        if instance.user_id is None:
            User = get_user_model()
            user = User.objects.filter(username=instance.email).first()
            if user is None:
                user = User(username=instance.email, email=instance.email)
                user.set_unusable_password()
            user.first_name = instance.name[:150]
            user.save()
            instance.user = user

    def after_save_instance(self, instance, row, **kwargs):
        instance.managed_unions.add(instance._roster_union)


def _higher(a: str, b: str) -> str:
    order = [ReviewerLevel.GRASSROOTS, ReviewerLevel.DISTRICT, ReviewerLevel.CITY]
    return max(a, b, key=order.index)
