"""Free text quoting ID and phone numbers: the ticket keeps the words for its staff, every copy carries them masked."""

import json

from app.core import outbox
from app.core.models import OutboxEvent
from app.notifications.models import Delivery, InboxMessage
from tests import factories as f
from tests.notifications.test_delivery import _quick, drain
from tests.tickets.test_routes import _about, _filed, _reopened, _replied, _setup, _staff_view


async def _copies_of(ticket_id: int) -> str:
    """Every outbox payload, delivery payload and inbox text made about this ticket, as one string to search."""
    events = await OutboxEvent.filter(aggregate_type="ticket", aggregate_id=ticket_id)
    deliveries = await Delivery.filter(event_id__in=[event.id for event in events])
    messages = await InboxMessage.filter(event_id__in=[event.id for event in events])
    assert events and deliveries
    return json.dumps(
        [e.payload for e in events] + [d.payload for d in deliveries] + [m.body for m in messages], ensure_ascii=False
    )


async def test_a_complaint_quoting_an_id_and_a_phone_reaches_the_supervisor_masked(app, client, cache, settings):
    setup = await _setup(client, cache)
    number, mobile = f.id_number(), "13912345678"
    content = f"我的身份证号{number}，电话 139 1234 5678 和 {mobile}，窗口让我跑了三趟"
    ticket = await _filed(client, setup["citizen"], "complaint", content=content)  # no matter: the supervisors'
    await drain(app, _quick(settings))

    alerts = await _about(client, setup["supervisor"], ticket["id"])
    assert len(alerts) == 1
    assert f"{number[:3]}***********{number[-4:]}" in alerts[0] and "139****5678" in alerts[0]
    assert number not in alerts[0] and mobile not in alerts[0] and "139 1234 5678" not in alerts[0]
    assert "窗口让我跑了三趟" in alerts[0]  # the complaint's words still reach the supervisor

    copies = await _copies_of(ticket["id"])
    assert number not in copies and mobile not in copies and "1234 5678" not in copies
    assert f"{number[:3]}***********{number[-4:]}" in copies

    # The ticket itself keeps what the citizen wrote: the staff who answer it need the number to call back.
    assert (await _staff_view(client, setup["supervisor"], ticket["id"]))["content"] == content


async def test_a_reopen_reason_quoting_a_phone_is_masked_in_the_department_alert(app, client, cache, settings):
    setup = await _setup(client, cache)
    ticket = await _filed(client, setup["citizen"], "consult", matter_id=setup["matter"]["id"])
    replied = await _replied(client, setup["clerk"], ticket)
    await _reopened(client, setup["citizen"], replied, reason="还是不行，请打 13712345678 联系我")
    await drain(app, _quick(settings))
    alerts = " ".join(await _about(client, setup["dept_admin"], ticket["id"]))
    assert "137****5678" in alerts and "13712345678" not in alerts
    events = json.dumps([e["payload"] for e in await outbox.events_for("ticket", ticket["id"])], ensure_ascii=False)
    assert "13712345678" not in events
