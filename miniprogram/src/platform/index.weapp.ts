import Taro from '@tarojs/taro';
import type { TaroRequest } from './taroTransport';
import type { WeappDeps } from './weapp';
import { weappAdapter } from './weapp';

export default weappAdapter({
  login: () => Taro.login(),
  request: Taro.request as unknown as TaroRequest,
  requestPayment: Taro.requestPayment as unknown as WeappDeps['requestPayment'],
  requestSubscribeMessage: Taro.requestSubscribeMessage as unknown as WeappDeps['requestSubscribeMessage'],
  chooseMessageFile: Taro.chooseMessageFile as unknown as WeappDeps['chooseMessageFile'],
  uploadFile: Taro.uploadFile as unknown as WeappDeps['uploadFile'],
  navigateToMiniProgram: (options) => Taro.navigateToMiniProgram(options),
  onAppShow: Taro.onAppShow as unknown as WeappDeps['onAppShow'],
  offAppShow: Taro.offAppShow as unknown as WeappDeps['offAppShow'],
});
