"""Ticket errors."""

from app.core import errors
from app.core.errors import Forbidden, NotFound, ValidationFailed


class TicketNotFound(NotFound):
    code = "TICKET_NOT_FOUND"
    message = "工单不存在"


class TicketRoleNotAllowed(Forbidden):
    code = "ROLE_NOT_ALLOWED"
    message = "您的岗位不能办理该工单操作"


class NoteRequired(errors.NoteRequired):
    message = "该操作必须填写内容或理由"


class SubjectMismatch(ValidationFailed):
    code = "SUBJECT_MISMATCH"
    message = "所述办件与事项不一致"
