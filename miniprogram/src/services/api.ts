import Taro from '@tarojs/taro';
import { createClient } from '@govhall/api-client';
import type { ApiClient, TokenStore } from '@govhall/api-client';
import platform from '../platform';

export const TOKEN_KEY = 'govhall.token';

/** The login token in the platform's storage (wx/my storage in mini-programs, localStorage on H5). */
export const taroTokens: TokenStore = {
  get: () => (Taro.getStorageSync(TOKEN_KEY) as string) || null,
  set: (token) => (token ? Taro.setStorageSync(TOKEN_KEY, token) : Taro.removeStorageSync(TOKEN_KEY)),
};

// A citizen never types a password: an expired token is replaced by a silent platform login (once per 401).
export const api: ApiClient = createClient({
  baseUrl: API_BASE,
  transport: platform.transport,
  tokens: taroTokens,
  relogin: async () => (await platform.login(api)).token,
});
