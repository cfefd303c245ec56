"""Payment rules that need no provider round trip."""

from types import SimpleNamespace

import pytest

from app.payments import service as payments
from app.payments.errors import UnknownChannel


def test_provider_for__each_channel_gets_its_own_provider():
    platforms = SimpleNamespace(wechatpay=object(), alipay_pay=object())
    assert payments.provider_for(platforms, "wechat") is platforms.wechatpay
    assert payments.provider_for(platforms, "alipay") is platforms.alipay_pay


@pytest.mark.parametrize("channel", ["unionpay", "", "WECHAT", "alipay "])
def test_provider_for__refuses_an_unknown_channel_instead_of_taking_it_for_alipay(channel):
    platforms = SimpleNamespace(wechatpay=object(), alipay_pay=object())
    with pytest.raises(UnknownChannel) as refused:
        payments.provider_for(platforms, channel)
    assert refused.value.code == "UNKNOWN_CHANNEL" and refused.value.status_code == 422
    assert refused.value.details == {"channel": channel, "channels": ["wechat", "alipay"]}
