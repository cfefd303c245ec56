import Taro from '@tarojs/taro';
import type { TaroRequest } from './taroTransport';
import { weappAdapter } from './weapp';

export default weappAdapter({ login: () => Taro.login(), request: Taro.request as unknown as TaroRequest });
