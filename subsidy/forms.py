"""The application form (正式申领, SPEC §4 step 3) and the sign-in form.

`ApplicationForm` is the one validator of the submitted fields: the web page binds it to
request.POST / FILES and the API binds it to request.data / FILES, so both refuse the same
input with the same Chinese message and code. The photo is verified here (in memory, outside
any lock); `services.intake.submit` stores it and counts the application, and the registry
check re-encodes it.
"""

import copy
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator

from subsidy import codes
from subsidy.models import ApplicationType, Hukou, WorkerGroup
from subsidy.refcache import current_commitment
from subsidy.services import bank, uploads
from unions.validators import clean_contact_phone, normalise_input, refuse_garbled

NUMBER_MIN, NUMBER_MAX = 6, 32


class CheapCopy:
    """Django deep-copies a form's fields for every form instance; for the application form
    that was ~0.4 ms of CPU, a tenth of a submission's Python under the opening rush's load
    (py-spy on a gunicorn worker, bench_intake), nearly all of it in `copy.copy`'s generic
    reduce protocol. This makes the same copy as Django's Field / Widget / ChoiceField /
    ChoiceWidget `__deepcopy__` — the field with its own widget, widget attrs, error
    messages, validators and choices — by copying the instance dicts directly.
    tests/subsidy/test_form_validation.py holds the copies independent."""

    def __deepcopy__(self, memo):
        result = _shallow(self)
        memo[id(self)] = result
        widget = result.widget = _shallow(self.widget)
        widget.attrs = self.widget.attrs.copy()
        if "choices" in widget.__dict__:
            widget.choices = copy.copy(self.widget.choices)
        result.error_messages = self.error_messages.copy()
        result.validators = self.validators[:]
        if "_choices" in self.__dict__:
            result._choices = _copy_choices(self._choices, memo)
        return result


def _copy_choices(choices, memo):
    """Flat (value, label) pairs are immutable: a new list of them is a deep copy. Groups,
    or choices of any other shape, are deep-copied as Django does."""
    if isinstance(choices, list) and all(
        isinstance(c, tuple) and not isinstance(c[1], list | tuple) for c in choices
    ):
        return list(choices)
    return copy.deepcopy(choices, memo)


def _shallow(obj):
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


class CharField(CheapCopy, forms.CharField):
    """Django's CharField, copied per form without copy's reduce protocol; garbled text and NUL
    are refused in Chinese (Django's own NUL message reads "不允许是用空字符串")."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ] + [refuse_garbled]


class ChoiceField(CheapCopy, forms.ChoiceField):
    """Django's ChoiceField, copied per form without copy's reduce protocol."""


class BooleanField(CheapCopy, forms.BooleanField):
    """Django's BooleanField, copied per form without copy's reduce protocol."""


class FileField(CheapCopy, forms.FileField):
    """Django's FileField, copied per form without copy's reduce protocol."""


class IntegerField(CheapCopy, forms.IntegerField):
    """Django's IntegerField, copied per form without copy's reduce protocol."""


def number_warnings(raw: str) -> list[dict]:
    """What the registry's exact match would trip over (notice 附件2: 编号大小写不一致、存在空格).
    Returned as warnings the applicant must confirm, not silent corrections."""
    raw = raw or ""
    out = []
    if any(ch.isspace() for ch in raw):
        out.append({"code": "number_has_space", "detail": "编号中含有空格"})
    if unicodedata.normalize("NFKC", raw) != raw:
        out.append({"code": "number_full_width", "detail": "编号中含有全角字符"})
    if any(ch.isalpha() and ch.islower() for ch in raw):
        out.append({"code": "number_lower_case", "detail": "编号中含有小写字母，请核对大小写"})
    return out


class ApplicationForm(forms.Form):
    kind = ChoiceField(
        label="申领类型",
        choices=ApplicationType.choices,
        widget=forms.RadioSelect(attrs={"class": "weui-check"}),
        error_messages={"required": "请选择申领类型", "invalid_choice": "请选择申领类型"},
    )
    study_number = CharField(
        label="学信网学籍学号 / 毕业证书编号",
        max_length=64,
        strip=False,
        error_messages={"required": "请填写学籍学号或毕业证书编号", "max_length": "编号过长"},
    )
    confirm_number = BooleanField(label="我已核对编号，与学信网/证书上完全一致", required=False)
    worker_group = ChoiceField(
        label="所属职工群体",
        choices=WorkerGroup.choices,
        widget=forms.RadioSelect(attrs={"class": "weui-check"}),
        error_messages={"required": "请选择所属职工群体", "invalid_choice": "请选择所属职工群体"},
    )
    hukou = ChoiceField(
        label="户籍",
        choices=Hukou.choices,
        widget=forms.RadioSelect(attrs={"class": "weui-check"}),
        error_messages={"required": "请选择户籍", "invalid_choice": "请选择户籍"},
    )
    job_position = CharField(
        label="工作岗位",
        max_length=100,
        error_messages={"required": "请填写工作岗位", "max_length": "工作岗位不超过 100 个字"},
    )
    bank_account = CharField(
        label="银行账号",
        max_length=40,
        error_messages={"required": "请填写银行账号", "max_length": "银行账号应为 16–19 位数字"},
    )
    confirm_unknown_bin = BooleanField(
        label="我确认该卡号是本人的中国工商银行借记卡", required=False
    )
    bank_branch = CharField(
        label="开户支行",
        max_length=100,
        error_messages={"required": "请填写开户支行", "max_length": "开户支行不超过 100 个字"},
    )
    card_photo = FileField(
        label="银行卡照片",
        allow_empty_file=True,
        required=False,  # checked in clean_card_photo with our own code and message
    )
    union_contact_phone = CharField(
        label="所属工会联系人电话",
        max_length=32,
        error_messages={"required": "请填写联系电话", "max_length": "联系电话过长，请核对"},
    )
    confirm_identity = BooleanField(
        label="我确认以上本人信息及工会信息无误",
        error_messages={"required": "请确认本人信息及工会信息"},
    )
    commitment_version = IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": "请阅读承诺书", "invalid": "请重新阅读并同意承诺书"},
    )
    accept_commitment = BooleanField(
        label="我已阅读并同意《承诺书》", error_messages={"required": "请阅读并同意《承诺书》"}
    )
    notify_opt_in = BooleanField(label="授权“微信通知提醒”申领进度", required=False)

    # Machine codes of Django's own field errors, per field.
    REQUIRED_CODES = {
        "kind": "kind_required",
        "study_number": "number_required",
        "worker_group": "worker_group_required",
        "hukou": "hukou_required",
        "job_position": "job_position_required",
        "bank_account": "account_required",
        "bank_branch": "branch_required",
        "union_contact_phone": "phone_required",
        "confirm_identity": "identity_not_confirmed",
        "commitment_version": "commitment_required",
        "accept_commitment": "commitment_required",
    }

    def __init__(self, *args, commitment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.commitment = commitment or current_commitment.get()
        self.warnings: list[dict] = []
        self.photo: bytes | None = None  # verified, as uploaded (sanitized after submission)
        self.bin_unknown = False
        if self.commitment is not None:
            self.fields["commitment_version"].initial = self.commitment.version

    def clean_study_number(self):
        raw = self.cleaned_data["study_number"]
        value = raw.strip()
        if not value:
            raise ValidationError("请填写学籍学号或毕业证书编号", code="number_required")
        canonical = normalise_input(value).replace(" ", "")
        if not canonical.isascii() or not canonical.replace("-", "").isalnum():
            raise ValidationError("编号只能由数字和字母组成", code="number_format")
        if not NUMBER_MIN <= len(canonical) <= NUMBER_MAX:
            raise ValidationError(
                f"编号长度应为 {NUMBER_MIN}–{NUMBER_MAX} 位", code="number_format"
            )
        self.warnings = number_warnings(value)
        return value

    def _normalised(self, name: str) -> str:
        """normalise_input (NFKC) can lengthen text (ﷺ is 18 characters, ㌀ is 4): the
        field's length limit is checked again on what is stored."""
        value = normalise_input(self.cleaned_data[name])
        field = self.fields[name]
        if field.max_length is not None and len(value) > field.max_length:
            raise ValidationError(field.error_messages["max_length"], code=f"{name}_too_long")
        return value

    def clean_job_position(self):
        value = self._normalised("job_position")
        if not value:
            raise ValidationError("请填写工作岗位", code="job_position_required")
        return value

    def clean_bank_branch(self):
        value = self._normalised("bank_branch")
        if len(value) < 2:
            raise ValidationError(
                "请填写开户支行（如：中国工商银行广州天河支行）", code="branch_required"
            )
        return value

    def clean_union_contact_phone(self):
        return clean_contact_phone(self.cleaned_data["union_contact_phone"])

    def clean_commitment_version(self):
        version = self.cleaned_data["commitment_version"]
        if self.commitment is None or version != self.commitment.version:
            raise ValidationError("承诺书已更新，请重新阅读并同意", code="commitment_outdated")
        return version

    def clean_card_photo(self):
        try:
            self.photo = uploads.verify_card_photo(self.cleaned_data.get("card_photo"))
        except uploads.UploadError as exc:
            raise ValidationError(exc.detail, code=exc.code)
        return None

    def clean(self):
        data = super().clean()
        if "bank_account" in data:
            try:
                result = bank.check_account(
                    data["bank_account"], confirm_unknown=data.get("confirm_unknown_bin", False)
                )
            except ValidationError as exc:
                self.add_error("bank_account", exc)
            else:
                data["bank_account"] = result.account
                self.bin_unknown = result.bin_unknown
        if self.warnings and not data.get("confirm_number"):
            items = "、".join(w["detail"] for w in self.warnings)
            self.add_error(
                "study_number",
                ValidationError(
                    f"{items}。学信网按编号精确比对，请核对后修改；确认无误请勾选“我已核对编号”",
                    code="number_needs_confirmation",
                ),
            )
        return data

    # --- for the API and the templates -------------------------------------------------
    def error_list(self) -> list[dict]:
        """[{field, code, detail}] with our machine codes (subsidy.codes): Django's own field
        codes ('required', 'max_length', …) are renamed per field (`field_code`)."""
        out = []
        for field, errors in self.errors.as_data().items():
            for err in errors:
                code = self.field_code(field, err.code)
                out.append({"field": field, "code": code, "detail": " ".join(err.messages)})
        return out

    @classmethod
    def field_code(cls, field: str, code: str | None) -> str:
        """Our machine code for a field's error: ours as raised; Django's renamed."""
        code = code or "invalid"
        if code == "max_length":
            return f"{field}_too_long"
        if code in ("required", "invalid_choice", "invalid") or not codes.is_registered(code):
            return cls.REQUIRED_CODES.get(field, f"{field}_invalid")
        return code

    def submission_data(self) -> dict:
        d = self.cleaned_data
        return {
            "kind": d["kind"],
            "study_number": d["study_number"].strip(),
            "worker_group": d["worker_group"],
            "hukou": d["hukou"],
            "job_position": d["job_position"],
            "bank_account": d["bank_account"],
            "bank_branch": d["bank_branch"],
            "bin_unknown": self.bin_unknown,
            "union_contact_phone": d["union_contact_phone"],
            "commitment": self.commitment,
            "notify_opt_in": d.get("notify_opt_in", False),
            "photo": self.photo,
        }


class PhoneForm(forms.Form):
    phone = forms.CharField(label="手机号码", max_length=20)
    code = forms.CharField(label="验证码", max_length=6, required=False)
