import Taro from '@tarojs/taro';
import { alipayAdapter, getAuthCode, requestSubscribeMessage, startAPVerify, tradePay } from './alipay';
import type { AlipayDeps } from './alipay';
import type { TaroRequest } from './taroTransport';

export default alipayAdapter({
  authCode: getAuthCode,
  request: Taro.request as unknown as TaroRequest,
  tradePay,
  requestSubscribeMessage,
  chooseImage: Taro.chooseImage as unknown as AlipayDeps['chooseImage'],
  uploadFile: Taro.uploadFile as unknown as AlipayDeps['uploadFile'],
  startAPVerify,
});
