"""Case errors."""

from app.core.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed


class CaseNotFound(NotFound):
    code = "CASE_NOT_FOUND"
    message = "办件不存在"


class MaterialFileNotFound(NotFound):
    code = "MATERIAL_FILE_NOT_FOUND"
    message = "材料文件不存在"


class MaterialsMissing(ValidationFailed):
    code = "MATERIALS_MISSING"
    message = "缺少必需的申请材料"


class InvalidForm(ValidationFailed):
    code = "INVALID_FORM"
    message = "申请表填写有误"


class LicenceNotFound(NotFound):
    code = "LICENCE_NOT_FOUND"
    message = "电子证照库中没有申请人的这类证照，请上传材料"


class LicenceNotAccepted(ValidationFailed):
    code = "LICENCE_NOT_ACCEPTED"
    message = "这项材料不能用电子证照代替，请上传材料"


class LicenceExpired(ValidationFailed):
    code = "LICENCE_EXPIRED"
    message = "该电子证照已过有效期，请先办理换领或上传有效材料"


class UnknownMaterial(ValidationFailed):
    code = "UNKNOWN_MATERIAL"
    message = "该事项没有这项材料"


class UnsupportedFileType(AppError):
    status_code = 415
    code = "UNSUPPORTED_FILE_TYPE"
    message = "只接受 PDF、JPEG 或 PNG 文件"


class FileTooLarge(AppError):
    status_code = 413
    code = "FILE_TOO_LARGE"
    message = "文件过大"


class NotEditable(Conflict):
    code = "CASE_NOT_EDITABLE"
    message = "办件已提交，不能再修改材料或表单"


class MaterialsClosed(Conflict):
    code = "MATERIALS_CLOSED"
    message = "办件已进入审查或已办结，窗口不能再收材料"


class RoleNotAllowed(Forbidden):
    code = "ROLE_NOT_ALLOWED"
    message = "您的岗位不能办理该操作"


class OnlineNotOffered(ValidationFailed):
    code = "ONLINE_NOT_OFFERED"
    message = "该事项不支持网上申办，请到窗口办理"


class PaymentRequired(Conflict):
    code = "PAYMENT_REQUIRED"
    message = "该事项须先缴费才能继续办理"


class NothingToPay(Conflict):
    code = "NOTHING_TO_PAY"
    message = "该办件无需缴费或已缴清"


class SubmitBeforePaying(Conflict):
    code = "CASE_NOT_SUBMITTED"
    message = "办件须先提交，才能缴费"
