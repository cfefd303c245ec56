"""Catalog errors."""

from app.core.errors import Conflict, NotFound, ValidationFailed


class MatterNotFound(NotFound):
    code = "MATTER_NOT_FOUND"
    message = "事项不存在"


class GuideVersionNotFound(NotFound):
    code = "GUIDE_VERSION_NOT_FOUND"
    message = "该版本的办事指南不存在"


class UnknownReference(ValidationFailed):
    code = "UNKNOWN_REFERENCE"
    message = "引用的部门、大厅或主题不存在"


class HallNotFound(NotFound):
    code = "HALL_NOT_FOUND"
    message = "大厅不存在"


class WindowNotFound(NotFound):
    code = "WINDOW_NOT_FOUND"
    message = "窗口不存在"


class WindowNumberTaken(Conflict):
    code = "WINDOW_NUMBER_TAKEN"
    message = "该大厅已有这个编号的窗口"


class HallCodeTaken(Conflict):
    code = "HALL_CODE_TAKEN"
    message = "大厅编码已存在"


class WindowBusy(Conflict):
    code = "WINDOW_BUSY"
    message = "窗口正在服务或还有人排队，不能关闭或删除"


class HallInUse(Conflict):
    code = "HALL_IN_USE"
    message = "大厅仍有预约、排班或事项在用，不能删除"
