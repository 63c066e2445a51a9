"""The one registry of machine error codes (SPEC §11).

Every `code` an endpoint can answer — the API's `{"code", "detail"}` errors, the reasons of the
entry check, the codes the web forms show (`data-code`), the rows of an import's error report —
is registered here once, with the HTTP status the API answers it with and its Chinese text.
The exception types (`ApiError`, `PayoutError`, `DecisionError`, `OtpError`, `IntakeRefused`,
`UploadError`, `ReviewerError`) and `eligibility.reason()` take their status and text from
here; the OpenAPI document (`x-error-codes`, the `ErrorCode` enum, each operation's documented
errors) and the page `/api/errors/` are generated from here, so the published catalogue cannot
drift from what the code answers.

A code's `text` is its meaning as published; it may hold `{named}` fields filled in when it is
raised (`text("already_granted", year=2022)`). A raise site may give a more specific message
for its context (e.g. which field), never another status: the status is the code's.

To add a code: add one row to the section it belongs to (or a new section), then raise it.
`tests/test_error_codes.py` scans the production source (`ast`) and fails on any code literal
that is not registered here, or raised with a literal status other than the registered one; at
run time an unregistered code is logged (logger `subsidy.codes`) and fails the test that hit it.
"""

import logging
import string
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    text: str
    topic: str

    @property
    def fields(self) -> list[str]:
        return [name for _, name, _, _ in string.Formatter().parse(self.text) if name]

    def detail(self, **params) -> str:
        """The text with its fields filled; a field not given stays as `{name}`."""
        if not self.fields:
            return self.text
        return self.text.format_map(_Keep(params))


class _Keep(dict):
    def __missing__(self, key):
        return "{" + key + "}"


REGISTRY: dict[str, ErrorCode] = {}
TOPICS: list[str] = []


def _section(topic: str, *rows: tuple[str, int, str]) -> None:
    TOPICS.append(topic)
    for code, status, text in rows:
        if code in REGISTRY:
            raise ValueError(f"error code {code!r} registered twice")
        REGISTRY[code] = ErrorCode(code, status, text, topic)


_section(
    "通用",
    ("not_authenticated", 401, "请先登录"),
    ("authentication_failed", 401, "登录已失效，请重新登录"),
    ("permission_denied", 403, "您没有权限执行此操作"),
    ("not_found", 404, "未找到该记录"),
    ("method_not_allowed", 405, "不支持的请求方法"),
    ("not_acceptable", 406, "无法按请求的格式返回结果"),
    ("unsupported_media_type", 415, "不支持的请求格式"),
    ("throttled", 429, "请求过于频繁，请稍后再试"),
    ("parse_error", 400, "请求格式错误"),
    ("invalid", 400, "提交的信息有误，请检查"),
    ("invalid_body", 400, "请求内容应为 JSON 对象或表单"),
    ("bad_encoding", 400, "提交内容须为 UTF-8 编码，请刷新页面后重试"),
    ("too_many_fields", 400, "提交的项目过多"),
    ("too_many_files", 400, "上传的文件过多"),
    ("data_too_large", 400, "填写的内容过长"),
    ("text_garbled", 400, "含有无法识别的字符，请删除后重新输入"),
    ("form_expired", 400, "页面已过期，请核对后重新提交"),
    ("busy", 503, "系统繁忙，请稍后重试"),
    ("unavailable", 503, "服务暂不可用，请稍后重试"),
    ("server_error", 500, "系统暂时出错，请稍后重试"),
)

_section(
    "登录",
    ("phone_required", 400, "请填写手机号码"),
    ("invalid_mobile", 400, "手机号码格式错误，请填写 11 位手机号"),
    ("code_required", 400, "请填写验证码"),
    ("otp_invalid", 400, "验证码错误，请核对后重新输入"),
    ("otp_expired", 400, "验证码已过期，请重新获取"),
    ("otp_too_many_attempts", 400, "验证码错误次数过多，请重新获取"),
    ("rate_limited", 429, "操作过于频繁，请 {wait} 秒后再试"),
    ("sms_failed", 503, "短信发送失败，请稍后重试"),
)

_section(
    "系统校核（申领资格）",
    ("no_campaign", 409, "当前没有开放的补助批次"),
    (
        "not_member",
        403,
        "您还不是有效的实名工会会员，或入会时间晚于实名入会截止时间（{deadline}）",
    ),
    (
        "union_not_eligible",
        403,
        "您所在的工会尚未在平台登记注册或未按规定缴交工会经费，暂不能申领",
    ),
    ("window_closed", 409, "不在申领时间内（{opens} 至 {closes}）"),
    ("intake_closed", 409, "申领通道已关闭（申领人数或补助名额已满）"),
    ("already_granted", 403, "您已于 {year} 年申领补助"),
    ("city_rejected", 409, "您本批次的申领已被市总工会审核不通过，本批次不能再申领"),
    ("active_application", 409, "您已有一份申领正在审核中或已审核通过，请在申领进度中查看"),
)

_section(
    "申领表单",
    ("idempotency_key_invalid", 400, "Idempotency-Key 须为 1–64 个可见 ASCII 字符"),
    (
        "idempotency_key_reused",
        409,
        "该请求标识（Idempotency-Key）已用于另一份申领；新的申领请使用新的标识",
    ),
    ("kind_required", 400, "请选择申领类型"),
    ("number_required", 400, "请填写学籍学号或毕业证书编号"),
    ("number_format", 400, "编号只能由数字和字母组成，长度为 6–32 位"),
    ("study_number_too_long", 400, "编号过长"),
    (
        "number_needs_confirmation",
        400,
        "编号中含有空格、全角字符或小写字母。学信网按编号精确比对，请核对后修改；"
        "确认无误请勾选“我已核对编号”",
    ),
    ("number_has_space", 400, "编号中含有空格"),
    ("number_full_width", 400, "编号中含有全角字符"),
    ("number_lower_case", 400, "编号中含有小写字母，请核对大小写"),
    ("worker_group_required", 400, "请选择所属职工群体"),
    ("hukou_required", 400, "请选择户籍"),
    ("job_position_required", 400, "请填写工作岗位"),
    ("job_position_too_long", 400, "工作岗位不超过 100 个字"),
    ("account_required", 400, "请填写银行账号"),
    ("account_format", 400, "银行账号只能包含数字"),
    ("account_length", 400, "银行账号应为 16–19 位数字"),
    ("account_checksum", 400, "银行账号校验位不正确，请逐位核对卡号"),
    ("bank_account_too_long", 400, "银行账号应为 16–19 位数字"),
    (
        "bin_unknown",
        400,
        "该卡号不在已知的工商银行卡号范围内，请核对；确认是本人工商银行借记卡请勾选确认",
    ),
    ("bank_not_icbc", 400, "开户行仅限中国工商银行"),
    ("bank_credit_card", 400, "请填写本人工商银行借记卡"),
    ("branch_required", 400, "请填写开户支行（如：中国工商银行广州天河支行）"),
    ("bank_branch_too_long", 400, "开户支行不超过 100 个字"),
    ("phone_invalid", 400, "联系电话应为手机号码或广州固定电话（020）"),
    ("union_contact_phone_too_long", 400, "联系电话过长，请核对"),
    ("photo_required", 400, "请上传银行卡照片"),
    ("photo_too_large", 400, "银行卡照片不能超过 5 MB，请压缩后重新上传"),
    ("photo_type", 400, "银行卡照片只支持 JPG 或 PNG 格式"),
    ("photo_too_many_pixels", 400, "银行卡照片像素过大，请压缩后重新上传"),
    ("photo_corrupt", 400, "银行卡照片已损坏或不完整，请重新拍摄上传"),
    ("card_photo_invalid", 400, "请上传银行卡照片"),
    ("identity_not_confirmed", 400, "请确认本人信息及工会信息"),
    ("commitment_required", 400, "请阅读并同意《承诺书》"),
    ("commitment_outdated", 400, "承诺书已更新，请重新阅读并同意"),
)

_section(
    "审核",
    ("reason_required", 400, "请填写原因"),
    ("reason_too_long", 400, "原因过长，请精简后重新填写"),
    ("confirm_employed_required", 400, "请先勾选“确认在职职工”，确认申领人为本单位在职职工"),
    (
        "registry_check_read_only",
        403,
        "该申领当前为“{status}”，学历接口校核阶段的申领只能查看，不能审核",
    ),
    ("wrong_level", 403, "该申领当前为“{status}”，尚未到本级（{level}）审核"),
    ("review_closed", 403, "不在本级审核时间内（{opens} 至 {deadline}），无法提交审核结果"),
    ("conflict", 409, "该申领的状态已变更为“{status}”，本次操作未执行，请刷新后查看"),
)

_section(
    "审核员管理",
    ("name_required", 400, "请填写姓名"),
    ("name_too_long", 400, "姓名不能超过 50 个字"),
    ("permission_required", 400, "请至少设置一项权限（审核 / 管理审核员）"),
    ("union_required", 400, "请勾选该审核员管理的工会"),
    ("union_not_managed", 403, "只能为本人管理的工会添加审核员"),
    ("reviewer_exists", 409, "该账号已是审核员"),
    ("cannot_remove_self", 400, "不能删除本人的审核员账号"),
)

_section(
    "会员与会籍",
    ("id_required", 400, "请填写身份证号码"),
    ("id_length", 400, "身份证号码应为 18 位"),
    ("id_format", 400, "身份证号码格式错误（只能包含数字，最后一位可为 X）"),
    ("id_birth_date", 400, "身份证号码中的出生日期无效"),
    ("id_birthplace", 400, "身份证号码前 6 位的出生地代码不存在"),
    ("id_checksum", 400, "身份证号码校验位错误，请核对"),
    ("id_duplicate", 409, "该身份证号码已登记为会员"),
    ("mobile_required", 400, "请填写手机号码"),
    ("mobile_format", 400, "手机号码格式错误"),
    ("mobile_invalid", 400, "手机号码无效，请填写 11 位中国大陆手机号"),
    ("mobile_is_landline", 400, "请填写手机号码，而不是固定电话"),
    ("mobile_duplicate", 409, "该手机号码已被其他会员使用"),
    ("union_not_registered", 400, "该工会尚未在平台注册"),
    ("already_member", 409, "您已是有效会员；如需更换工会，请申请会籍转移"),
    ("join_pending", 409, "已有待审批的入会申请"),
    ("request_decided", 409, "该申请已处理"),
    ("same_union", 400, "转入工会与当前工会相同"),
    ("transfer_pending", 409, "已有待审批的会籍转移申请"),
    ("transfer_stale", 409, "会员的当前工会已变化，该转移申请已失效，请重新申请"),
)

_section(
    "名单、公示与发放",
    ("already_published", 409, "本批次名单已公示，不能重复公示"),
    (
        "review_in_progress",
        409,
        "审核尚未结束，暂不能公示：{blocking}。（响应的 blocking 字段列出各状态的件数）",
    ),
    ("nothing_to_publish", 409, "还没有拟获补助的申领，不能公示"),
    ("not_published", 404, "本批次补助名单尚未公示"),
    ("publication_ended", 410, "公示期已结束"),
    ("list_not_published", 409, "名单尚未公示，不能发放"),
    ("publication_not_ended", 409, "公示期至 {ends} 结束，公示结束后才能发放"),
    ("nothing_to_pay", 409, "没有待发放的申领"),
    (
        "supplementary_not_ended",
        409,
        "补充公示中的 {count} 人须待补充公示期结束（{ends}）后才能发放",
    ),
    (
        "shared_account",
        409,
        "有 {count} 个银行账号被多名申领人同时使用，请先核实更正：{accounts}",
    ),
    ("not_funded", 409, "只有“拟获补助”的申领可以取消补助资格"),
    ("in_payment", 409, "该申领已在发放批次中，待银行回盘后再处理"),
    ("not_failed", 409, "只有“发放失败”的申领可以更正银行账号"),
    ("bad_account", 400, "银行账号应为 16–19 位数字且校验位正确，请核对"),
    ("text_too_long", 400, "开户支行不超过 100 字，更正原因不超过 200 字"),
    ("bad_format", 404, "文件格式只能是 csv 或 xlsx"),
    ("file_missing", 410, "发放文件不存在，请联系系统管理员（文件不会重新生成）"),
    ("file_changed", 409, "发放文件校验失败，文件已被改动，请联系系统管理员"),
)

_section(
    "银行回盘文件导入（逐行报告）",
    ("missing_columns", 400, "缺少列：{columns}"),
    (
        "too_many_rows",
        400,
        "文件有 {rows} 行，本批次只有 {items} 条记录，请确认是否为本批次的结果文件",
    ),
    ("empty_file", 400, "回盘文件没有数据行"),
    ("duplicate_row", 400, "第 {row} 行：账号 {account} 与第 {first} 行重复"),
    ("unknown_account", 400, "第 {row} 行：账号 {account} 不是任何申领人的账号"),
    ("not_in_batch", 400, "第 {row} 行：账号 {account} 不在本发放批次中"),
    ("already_imported", 400, "第 {row} 行：账号 {account} 的结果已导入过"),
    ("wrong_name", 400, "第 {row} 行：账号 {account} 的户名与本批次记录不符"),
    (
        "wrong_amount",
        400,
        "第 {row} 行：账号 {account} 的金额 {amount} 与应发金额 {expected} 不符",
    ),
    ("bad_result", 400, "第 {row} 行：结果应为“成功”或“失败”，不是“{outcome}”"),
)


_FALLBACK_STATUS = 400
_FALLBACK_TEXT = "请求有误，请稍后重试"


def is_registered(code: str) -> bool:
    return code in REGISTRY


def lookup(code: str) -> ErrorCode:
    """The registered code; an unregistered one is logged (an error: it must be registered)
    and answered as a plain 400, never a 500."""
    found = REGISTRY.get(code)
    if found is None:
        log.error("unregistered error code %r: add it to subsidy/codes.py", code)
        return ErrorCode(code, _FALLBACK_STATUS, _FALLBACK_TEXT, "")
    return found


def status(code: str) -> int:
    return lookup(code).status


def text(code: str, **params) -> str:
    return lookup(code).detail(**params)


def check_status(code: str, given: int | None) -> int:
    """The code's status; a different one given by a raise site is logged (the status is the
    code's, so that the catalogue holds) and the registered one wins."""
    entry = lookup(code)
    if given is not None and given != entry.status and entry.topic:
        log.error("error code %r raised with status %s, registered %s", code, given, entry.status)
    return entry.status if entry.topic else (given or entry.status)


def catalogue() -> list[ErrorCode]:
    """Every code, by section in the order above."""
    order = {t: i for i, t in enumerate(TOPICS)}
    return sorted(REGISTRY.values(), key=lambda e: order[e.topic])
