"""Catalog errors."""

from app.core.errors import NotFound, ValidationFailed


class MatterNotFound(NotFound):
    code = "MATTER_NOT_FOUND"
    message = "事项不存在"


class GuideVersionNotFound(NotFound):
    code = "GUIDE_VERSION_NOT_FOUND"
    message = "该版本的办事指南不存在"


class UnknownReference(ValidationFailed):
    code = "UNKNOWN_REFERENCE"
    message = "引用的部门、大厅或主题不存在"
