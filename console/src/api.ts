import { createClient, fetchTransport, webTokenStore } from '@govhall/api-client';
import type { Transport } from '@govhall/api-client';
import { SESSION_ENDED_EVENT } from './session/ended';

export const TOKEN_KEY = 'govhall.console.token';

const sendOverFetch = fetchTransport();

// A call made with a token that the server no longer takes (the account was closed or changed, the session expired)
// ends the console session at once, whichever page made it: the app goes to the login page and says why.
const transport: Transport = async (request) => {
  const response = await sendOverFetch(request);
  if (response.status === 401 && request.headers.Authorization && !request.url.endsWith('/api/v1/auth/logout')) {
    window.dispatchEvent(new CustomEvent(SESSION_ENDED_EVENT));
  }
  return response;
};

// Same origin: the backend serves the console at /console and the API at /api. No relogin: a clerk's session that
// expired goes back to the login page (the password is the clerk's to type).
export const api = createClient({
  baseUrl: '',
  transport,
  tokens: webTokenStore(window.localStorage, TOKEN_KEY),
});
