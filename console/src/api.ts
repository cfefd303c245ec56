import { createClient, fetchTransport, webTokenStore } from '@govhall/api-client';

export const TOKEN_KEY = 'govhall.console.token';

// Same origin: the backend serves the console at /console and the API at /api. No relogin: a clerk's session that
// expired goes back to the login page (the password is the clerk's to type).
export const api = createClient({
  baseUrl: '',
  transport: fetchTransport(),
  tokens: webTokenStore(window.localStorage, TOKEN_KEY),
});
