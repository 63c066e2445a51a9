"""The pass rules of the education check (SPEC §5, notice 一(一)).

Pass when the registry has a record for the exact number the applicant typed (no trimming,
no case folding: the registry does none, and the notice names spaces and letter case as the
usual cause of rejection); its name and ID number are the applicant's; its level is 大专/专科
or 本科; and for `enrollment` the student status was registered (取得学籍) inside the
campaign's eligibility window, for `self_study` the certificate is a 自学考试 one issued inside
it. Every failure has its own machine code and the Chinese reason the applicant is shown.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from registry.client import Found, LookupResult, NotFound, RegistryRecord

PASSED = "passed"
NOT_FOUND = "not_found"
NAME_MISMATCH = "name_mismatch"
ID_MISMATCH = "id_mismatch"
STATUS_INVALID = "status_invalid"
LEVEL_NOT_ELIGIBLE = "level_not_eligible"
NOT_SELF_STUDY = "not_self_study"
DATE_OUTSIDE_WINDOW = "date_outside_window"

# What each code means, for the reviewers who read it beside the reason (notice attachment 3).
OUTCOME_LABELS = {
    PASSED: "校核通过",
    NOT_FOUND: "未查询到记录",
    NAME_MISMATCH: "姓名不一致",
    ID_MISMATCH: "身份证号码不一致",
    STATUS_INVALID: "学籍或证书状态无效",
    LEVEL_NOT_ELIGIBLE: "学历层次不符",
    NOT_SELF_STUDY: "不是自学考试证书",
    DATE_OUTSIDE_WINDOW: "时间不在补助范围内",
}

ELIGIBLE_LEVELS = {"大专", "专科", "本科"}
SELF_STUDY_FORM = "自学考试"
# A student status or certificate the registry marks as withdrawn is no status at all.
INVALID_STATUSES = {"注销", "退学", "开除学籍", "作废", "撤销"}


@dataclass(frozen=True)
class Outcome:
    code: str
    reason: str = ""  # Chinese, shown to the applicant when the check fails

    @property
    def passed(self) -> bool:
        return self.code == PASSED


def _same_name(a: str, b: str) -> bool:
    # The same person's name may come with a different width or middle dot (维吾尔族姓名).
    def norm(s):
        s = unicodedata.normalize("NFKC", s or "")
        return "".join(s.split()).replace("•", "·").replace("・", "·")

    return norm(a) == norm(b)


def _same_id(a: str, b: str) -> bool:
    return (a or "").strip().upper() == (b or "").strip().upper()


def evaluate(kind: str, applicant_name: str, applicant_id: str, result: LookupResult, campaign):
    """The outcome for a Found/NotFound lookup. `kind` is the application type
    (enrollment / self_study); the campaign gives the eligibility window."""
    number_label = "学籍学号" if kind == "enrollment" else "证书编号"
    if isinstance(result, NotFound):
        return Outcome(NOT_FOUND, f"{number_label}未查询到，请检查是否有空格或大小写错误")
    if not isinstance(result, Found):
        raise TypeError("only a Found or NotFound lookup can be evaluated")
    record: RegistryRecord = result.record
    if not _same_name(record.name, applicant_name):
        return Outcome(NAME_MISMATCH, f"学信网登记的姓名与申领人姓名不一致（{number_label}有误？）")
    if not _same_id(record.id_number, applicant_id):
        return Outcome(ID_MISMATCH, "学信网登记的身份证号码与申领人身份证号码不一致")
    if record.status in INVALID_STATUSES:
        what = "学籍" if kind == "enrollment" else "证书"
        return Outcome(STATUS_INVALID, f"{what}状态为“{record.status}”，不符合申领条件")
    if record.level not in ELIGIBLE_LEVELS:
        return Outcome(
            LEVEL_NOT_ELIGIBLE, f"学历层次为“{record.level}”，补助仅限大专、本科学历教育"
        )
    if kind == "self_study" and record.learning_form != SELF_STUDY_FORM:
        return Outcome(
            NOT_SELF_STUDY,
            f"该证书学习形式为“{record.learning_form}”，不是高等教育自学考试毕业证书",
        )
    if not (campaign.eligible_from <= record.date <= campaign.eligible_until):
        what = "取得学籍时间" if kind == "enrollment" else "毕业时间"
        return Outcome(
            DATE_OUTSIDE_WINDOW,
            f"{what}不在 {campaign.eligible_from:%Y-%m-%d} 至 {campaign.eligible_until:%Y-%m-%d} "
            f"期间（学信网记录为 {record.date:%Y-%m-%d}）",
        )
    return Outcome(PASSED)
