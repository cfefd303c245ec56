import Taro from '@tarojs/taro';
import { h5Adapter } from './h5';

export default h5Adapter({
  simMode: SIM_MODE,
  storage: {
    get: (key) => (Taro.getStorageSync(key) as string) || null,
    set: (key, value) => Taro.setStorageSync(key, value),
  },
  newOpenid: () => `h5-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
  askConsent: async (text) => {
    const answer = await Taro.showModal({ title: '微信实名授权（模拟）', content: text, confirmText: '同意', cancelText: '不同意' });
    return answer.confirm;
  },
});
