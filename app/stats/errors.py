"""Statistics errors."""

from app.core.errors import NotFound


class DepartmentNotFound(NotFound):
    code = "DEPARTMENT_NOT_FOUND"
    message = "部门不存在或不在您的管辖范围内"
