import Taro from '@tarojs/taro';
import type { TaroRequest } from './taroTransport';
import type { WeappDeps } from './weapp';
import { weappAdapter } from './weapp';

export default weappAdapter({
  login: () => Taro.login(),
  request: Taro.request as unknown as TaroRequest,
  navigateToMiniProgram: (options) => Taro.navigateToMiniProgram(options),
  onAppShow: Taro.onAppShow as unknown as WeappDeps['onAppShow'],
  offAppShow: Taro.offAppShow as unknown as WeappDeps['offAppShow'],
});
