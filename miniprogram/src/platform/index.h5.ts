import Taro from '@tarojs/taro';
import { h5Adapter } from './h5';

/** A file from the browser's own picker (an <input type="file"> clicked for the user's tap). */
function pickFile(): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png';
    input.style.display = 'none';
    input.addEventListener('change', () => {
      resolve(input.files?.[0] ?? null);
      input.remove();
    });
    input.addEventListener('cancel', () => {
      resolve(null);
      input.remove();
    });
    document.body.appendChild(input);
    input.click();
  });
}

export default h5Adapter({
  simMode: SIM_MODE,
  storage: {
    get: (key) => (Taro.getStorageSync(key) as string) || null,
    set: (key, value) => Taro.setStorageSync(key, value),
  },
  newOpenid: () => `h5-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
  pickFile,
  askConsent: async (text) => {
    const answer = await Taro.showModal({ title: '微信实名授权（模拟）', content: text, confirmText: '同意', cancelText: '不同意' });
    return answer.confirm;
  },
});
