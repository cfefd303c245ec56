export { ApiError, NetworkError, toApiError } from './errors';
export type { ErrorBody } from './errors';
export { createClient, fillPath, queryString } from './client';
export type { ApiClient, ClientOptions, PathsWith, RequestInit, Response } from './client';
export { fetchTransport, parseBody } from './transport';
export type { Transport, TransportRequest, TransportResponse } from './transport';
export { memoryTokenStore, webTokenStore } from './tokens';
export type { TokenStore } from './tokens';
export type { components, operations, paths } from './schema';

import type { components } from './schema';
/** A named schema of the document: Schema<'StaffOut'>. */
export type Schema<Name extends keyof components['schemas']> = components['schemas'][Name];
