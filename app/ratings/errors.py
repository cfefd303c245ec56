"""Rating errors."""

from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed


class RatingNotFound(NotFound):
    code = "RATING_NOT_FOUND"
    message = "评价不存在"


class AlreadyRated(Conflict):
    code = "ALREADY_RATED"
    message = "该服务已经评价过"


class NotRateable(Conflict):
    code = "NOT_RATEABLE"
    message = "办件办结（或预约到场）后才能评价"


class ApplicantRatesOnly(Forbidden):
    code = "APPLICANT_RATES_ONLY"
    message = "评价须由申请人本人作出，代办人不能代为评价"


class RatingClosed(Conflict):
    code = "RATING_CLOSED"
    message = "已超过评价期限"


class ReasonRequired(ValidationFailed):
    code = "REASON_REQUIRED"
    message = "不满意的评价请写明原因，便于部门回访整改"
