import type { ApiClient, Schema } from '@govhall/api-client';

export type Staff = Schema<'StaffOut'>;

/** Login, restore and logout over the API; the token lives in the client's token store. */
export function sessionService(client: ApiClient) {
  return {
    /** POST /api/v1/auth/staff; the token is kept, the staff member answered. Throws ApiError (see loginErrorText). */
    async login(username: string, password: string): Promise<Staff> {
      const answer = await client.POST('/api/v1/auth/staff', { body: { username, password }, auth: false });
      client.tokens.set(answer.token);
      // The login answer omits the username; /staff/me is the one shape of "who is logged in".
      return client.GET('/api/v1/staff/me');
    },

    /** The staff member of the stored token, or null when there is none or it no longer works. */
    async restore(): Promise<Staff | null> {
      if (!client.tokens.get()) return null;
      try {
        return await client.GET('/api/v1/staff/me');
      } catch (error) {
        if ((error as { status?: number }).status === 401) return null;
        throw error;
      }
    },

    /** Ends the session on the server (best effort) and forgets the token either way. */
    async logout(): Promise<void> {
      try {
        if (client.tokens.get()) await client.POST('/api/v1/auth/logout');
      } catch {
        // An expired token or a network failure: the token is forgotten below all the same.
      } finally {
        client.tokens.set(null);
      }
    },
  };
}

export type SessionService = ReturnType<typeof sessionService>;

/** The department's name for the header and home page; "全市" for staff of no department (supervisors, admins). */
export async function departmentName(client: ApiClient, departmentId: number | null): Promise<string> {
  if (departmentId === null) return '全市（不限部门）';
  const page = await client.GET('/api/v1/departments', { query: { page_size: 100 } });
  return page.items.find((department) => department.id === departmentId)?.name ?? `部门 ${departmentId}`;
}
