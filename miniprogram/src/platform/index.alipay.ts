import Taro from '@tarojs/taro';
import { alipayAdapter, getAuthCode, startAPVerify } from './alipay';
import type { TaroRequest } from './taroTransport';

export default alipayAdapter({ authCode: getAuthCode, request: Taro.request as unknown as TaroRequest, startAPVerify });
