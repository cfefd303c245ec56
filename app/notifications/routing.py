"""Who hears of which event, and in what words: one table, read by the dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

STATUS_PHRASES = {
    "submitted": "已提交",
    "supplement_required": "需补正",
    "accepted": "已受理",
    "rejected": "不予受理",
    "in_review": "审查中",
    "suspended": "已中止",
    "approved": "准予许可",
    "denied": "不予许可",
    "delivered": "已送达",
    "withdrawn": "已撤回",
}


@dataclass(frozen=True)
class Route:
    """What one kind of event becomes."""

    title: str
    body: Callable[[dict], str] | None = None  # the citizen's inbox text; None: no citizen message
    purpose: str = ""  # the push template purpose (config notifications.wechat_templates)
    # The WeChat Work alert's text; who receives it is configuration (notifications.staff_alerts).
    staff_text: Callable[[dict], str] | None = None
    # The push template's values in its field order, from the payload and the time of dispatch.
    values: Callable[[dict, str], list[object]] | None = None
    # A progress note (已受理, 审查中) may not spend a one-time credit kept for what the citizen must act on or waits
    # for (补正, 办结, 领取, 叫号): notifications.credits_kept_for_essentials.
    progress: bool = False


def _matter(p: dict) -> str:
    return p.get("matter_name") or f"办件{p.get('case_id', '')}"


def _note(p: dict) -> str:
    return f"：{p['note']}" if p.get("note") else ""


def _items(p: dict) -> str:
    return "；".join(f"{i.get('material_name') or '补充说明'}（{i['reason']}）" for i in p.get("items", []))


def _tracking(p: dict) -> str:
    if p.get("method") == "express":
        return f"已寄出，运单号 {p.get('tracking_no', '')}"
    return _pickup(p)


def _pickup(p: dict) -> str:
    """Where and when to collect a result: the hall, its address and opening hours."""
    if not p.get("hall_name"):
        return "已办好，请带身份证件到办理部门窗口领取"
    where = p["hall_name"] + (f"（{p['hall_address']}）" if p.get("hall_address") else "")
    when = f"，办公时间 {p['hall_opening_hours']}" if p.get("hall_opening_hours") else ""
    return f"已办好，请带身份证件到{where}领取{when}"


ROUTES: dict[str, Route] = {
    "case.submitted": Route(
        "申请已提交",
        lambda p: f"您的「{_matter(p)}」申请已提交，等待窗口预审。",
        "case_progress",
        staff_text=lambda p: f"新办件待预审：{_matter(p)}（办件号 {p['case_id']}）",
        progress=True,
    ),
    "case.supplement_required": Route(
        "需要补正材料",
        lambda p: f"您的「{_matter(p)}」申请需要补正：{_items(p)}。请一次补齐后重新提交。",
        "supplement_required",
        values=lambda p, at: [
            _matter(p),
            p.get("receipt_no") or f"CASE{p.get('case_id', '')}",
            _items(p),
            at,
            "请一次补齐后重新提交",
        ],
    ),
    "case.accepted": Route(
        "申请已受理",
        lambda p: (
            f"您的「{_matter(p)}」已受理，受理编号 {p.get('receipt_no')}，"
            f"承诺办结时间 {str(p.get('deadline', ''))[:10]}。"
        ),
        "case_progress",
        progress=True,
    ),
    "case.rejected": Route("申请不予受理", lambda p: f"您的「{_matter(p)}」申请不予受理{_note(p)}", "case_progress"),
    "case.in_review": Route("审查中", lambda p: f"您的「{_matter(p)}」正在审查。", "case_progress", progress=True),
    "case.suspended": Route(
        "办理中止",
        lambda p: f"您的「{_matter(p)}」暂时中止办理，期间不计入办理时限{_note(p)}",
        "case_progress",
        progress=True,
    ),
    "case.approved": Route("准予许可", lambda p: f"您的「{_matter(p)}」已办结：准予许可。", "case_progress"),
    "case.denied": Route("不予许可", lambda p: f"您的「{_matter(p)}」已办结：不予许可{_note(p)}", "case_progress"),
    "case.delivered": Route(
        "办理结果已送达",
        lambda p: f"您的「{_matter(p)}」办理结果{_tracking(p)}。",
        "case_progress",
        values=lambda p, at: [
            _matter(p),
            p.get("receipt_no") or f"CASE{p.get('case_id', '')}",
            "已寄出" if p.get("method") == "express" else "待领取",
            at,
            f"运单号 {p.get('tracking_no', '')}" if p.get("method") == "express" else _place(p),
        ],
    ),
    "case.withdrawn": Route(
        "申请已撤回", lambda p: f"您的「{_matter(p)}」申请已撤回。", "case_progress", progress=True
    ),
    "case.deadline_warning": Route(
        "办件临近时限",
        staff_text=lambda p: (
            f"黄灯预警：办件 {p.get('receipt_no')} 已用去八成时限，截止 {str(p.get('deadline', ''))[:10]}"
        ),
    ),
    "case.overdue": Route(
        "办件已超期",
        staff_text=lambda p: (
            f"红灯超期：办件 {p.get('receipt_no')} 已超过承诺时限（{str(p.get('deadline', ''))[:10]}）"
        ),
    ),
}


def _when(p: dict, key: str = "start") -> str:
    return str(p.get(key) or "")[:16].replace("T", " ")


def _place(p: dict) -> str:
    return p.get("hall_name") or "办事大厅"


APPOINTMENT_ROUTES: dict[str, Route] = {
    "appointment.booked": Route(
        "预约成功",
        lambda p: f"您已预约「{_matter(p)}」，{_when(p)} 在{_place(p)}办理，签到码 {p.get('code')}。",
        "appointment_booked",
        values=lambda p, at: [_matter(p), _place(p), _when(p), p.get("code"), "请按时到场并携带身份证件"],
        progress=True,
    ),
    "appointment.reminder": Route(
        "预约提醒",
        lambda p: f"提醒：您预约的「{_matter(p)}」将于 {_when(p)} 在{_place(p)}办理，请按时到场。",
        "appointment_reminder",
        values=lambda p, at: [_matter(p), _when(p), _place(p), "请按时到场，到场后扫码签到"],
    ),
    "appointment.cancelled": Route(
        "预约已取消",
        lambda p: f"您预约的「{_matter(p)}」（{_when(p)}）已取消，名额已释放。",
        "appointment_cancelled",
        values=lambda p, at: [_matter(p), _when(p), p.get("reason") or "本人取消"],
        progress=True,
    ),
    "queue.called": Route(
        "请到窗口办理",
        lambda p: f"请 {p.get('number')} 号到{p.get('window')}号窗口办理（{_place(p)}）。",
        "queue_called",
        values=lambda p, at: [p.get("number"), f"{p.get('window')}号窗口", _place(p), at, "请尽快前往，过号需重新取号"],
    ),
}
ROUTES.update(APPOINTMENT_ROUTES)


def yuan(fen: int | None) -> str:
    """12.50元 from 1250 fen, without floats."""
    fen = int(fen or 0)
    return f"{fen // 100}.{fen % 100:02d}元"


def _payment_alert(p: dict) -> str:
    """The admins' WeChat Work text of a payments alert."""
    if p.get("reason") == "refund_abnormal":
        return (
            f"退款异常：订单 {p.get('order_no')} 的退款 {p.get('refund_no')}（{yuan(p.get('amount_fen'))}）"
            "滞留在银行（如用户银行卡已注销），款项仍冻结；请在管理后台改退到用户其他银行卡或商户账户线下处理"
        )
    return f"支付通知与订单不符（{p.get('reason')}）：订单 {p.get('order_no') or '未知'}，请核查" + (
        f"（自上次告警以来共 {p['count']} 次）" if p.get("count", 1) > 1 else ""
    )


PAYMENT_ROUTES: dict[str, Route] = {
    "payment.succeeded": Route(
        "缴费成功",
        lambda p: f"您为「{_matter(p)}」缴纳的 {yuan(p.get('amount_fen'))} 已到账，订单号 {p.get('order_no')}。",
        "payment",
        values=lambda p, at: [_matter(p), yuan(p.get("amount_fen")), p.get("order_no"), "已支付", at],
        progress=True,
    ),
    "payment.refunded": Route(
        "退款成功",
        lambda p: f"「{_matter(p)}」的 {yuan(p.get('amount_fen'))} 已原路退回，订单号 {p.get('order_no')}。",
        "payment",
        values=lambda p, at: [_matter(p), yuan(p.get("amount_fen")), p.get("order_no"), "已退款", at],
    ),
    "payment.mismatch": Route("支付异常", staff_text=lambda p: _payment_alert(p)),
}
ROUTES.update(PAYMENT_ROUTES)


def _day(p: dict, key: str) -> str:
    return str(p.get(key) or "")[:10]


def _kind(p: dict) -> str:
    return p.get("kind_name") or "留言"


def _reply_values(text_key: str) -> Callable[[dict, str], list[object]]:
    # 留言回复通知: what the citizen wrote, what the department answered, when.
    return lambda p, at: [p.get("content") or _kind(p), p.get(text_key) or "", at]


RATING_ROUTES: dict[str, Route] = {
    "rating.bad": Route(
        "评价已收到",
        lambda p: (
            f"您对「{_matter(p)}」的评价已收到，主管部门将于 {_day(p, 'callback_due')} 前回访，"
            f"{_day(p, 'fix_due')} 前完成整改。"
        ),
        staff_text=lambda p: (
            f"「{_matter(p)}」收到{p.get('score')}分差评：{p.get('comment', '')}。"
            f"请于 {_day(p, 'callback_due')} 前回访（工单 {p.get('ticket_id')}）"
        ),
    ),
    "rating.appealed": Route(
        "差评申诉待复核",
        staff_text=lambda p: f"「{_matter(p)}」的差评（评价 {p.get('rating_id')}）被申诉为恶意评价：{p.get('note')}",
    ),
    "rating.appeal_decided": Route(
        "差评复核结果",
        lambda p: f"您对「{_matter(p)}」的评价经复核认定为无效，不计入统计：{p.get('note')}",
        staff_text=lambda p: (
            f"评价 {p.get('rating_id')} 的申诉已复核："
            f"{'认定无效' if p.get('decision') == 'void' else '维持原评价'}（{p.get('note')}）"
        ),
    ),
    "ticket.called_back": Route(
        "差评回访",
        lambda p: f"主管部门已就您对「{_matter(p)}」的评价回访：{p.get('note')}",
        "feedback_reply",
        values=_reply_values("note"),
    ),
    "ticket.fixed": Route(
        "整改结果",
        lambda p: f"您对「{_matter(p)}」的评价已整改：{p.get('note')}。欢迎对整改结果评价。",
        "feedback_reply",
        values=_reply_values("note"),
    ),
    "ticket.callback_overdue": Route(
        "差评回访超期", staff_text=lambda p: f"工单 {p.get('ticket_id')}（{_matter(p)}）未在 {_day(p, 'due_at')} 前回访"
    ),
    "ticket.fix_overdue": Route(
        "差评整改超期",
        staff_text=lambda p: f"工单 {p.get('ticket_id')}（{_matter(p)}）未在 {_day(p, 'due_at')} 前完成整改",
    ),
    "ticket.reply_overdue": Route(
        "留言答复超期",
        staff_text=lambda p: (
            f"{_kind(p)}工单 {p.get('ticket_id')} 未在 {_day(p, 'due_at')} 前答复：{p.get('content', '')}"
        ),
    ),
    "ticket.closed": Route(
        "工单已办结",
        lambda p: f"您的{_kind(p)}「{p.get('content', '')}」已由效能监察办结：{p.get('reason')}",
        "feedback_reply",
        values=_reply_values("reason"),
    ),
}
ROUTES.update(RATING_ROUTES)

FEEDBACK_ROUTES: dict[str, Route] = {
    "feedback.created": Route(
        "留言已受理",
        lambda p: f"您的{_kind(p)}已转主管部门，将于 {_day(p, 'reply_due')} 前答复。",
        staff_text=lambda p: (
            f"新{_kind(p)}（工单 {p.get('ticket_id')}），请于 {_day(p, 'reply_due')} 前答复：{p.get('content', '')}"
        ),
    ),
    "feedback.unrouted": Route(
        "留言已受理",
        lambda p: f"您的{_kind(p)}已收到，将于 {_day(p, 'reply_due')} 前答复。",
        staff_text=lambda p: f"未指明事项的{_kind(p)}（工单 {p.get('ticket_id')}）待分派或答复：{p.get('content', '')}",
    ),
    "feedback.replied": Route(
        "留言已答复",
        lambda p: f"您的{_kind(p)}已答复：{p.get('reply')}。问题解决了请确认，未解决可重新提出。",
        "feedback_reply",
        values=_reply_values("reply"),
    ),
    "feedback.reopened": Route(
        "留言被重新提出",
        staff_text=lambda p: (
            f"{_kind(p)}工单 {p.get('ticket_id')} 群众表示未解决：{p.get('reason')}。"
            f"请于 {_day(p, 'reply_due')} 前重新答复"
        ),
    ),
    "feedback.escalated": Route(
        "留言已转效能监察",
        lambda p: f"您的{_kind(p)}已第二次重新提出，已转效能监察督办。",
        staff_text=lambda p: (
            f"{_kind(p)}工单 {p.get('ticket_id')} 第{p.get('reopen_count')}次被重新提出，"
            f"已转效能监察：{p.get('reason')}"
        ),
    ),
}
ROUTES.update(FEEDBACK_ROUTES)


def route_for(kind: str) -> Route | None:
    """The route of an event kind; None for events nobody is told about (case.created)."""
    return ROUTES.get(kind)


def template_values(kind: str, payload: dict, at_text: str) -> list[object]:
    """The values of the event's push, in the template's field order."""
    route = ROUTES[kind]
    if route.values is not None:
        return route.values(payload, at_text)
    status = STATUS_PHRASES.get(payload.get("to", ""), "更新")
    note = payload.get("note") or (_items(payload) if payload.get("items") else ROUTES[kind].title)
    return [_matter(payload), payload.get("receipt_no") or f"CASE{payload.get('case_id', '')}", status, at_text, note]
