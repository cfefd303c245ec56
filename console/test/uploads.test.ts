import { describe, expect, it } from 'vitest';
import { ApiError, NetworkError, createClient, memoryTokenStore } from '@govhall/api-client';
import type { Transport } from '@govhall/api-client';
import {
  MAX_SCAN_BYTES,
  allStored,
  checkScan,
  chosenSlot,
  formatBytes,
  pendingSlots,
  uploadScan,
  type ScanSlot,
  type UploadRequest,
} from '../src/cases/uploads';
import { receivedMaterials } from '../src/cases/receipt';

const noTransport: Transport = async () => {
  throw new TypeError('not used');
};
const api = createClient({ baseUrl: '', transport: noTransport, tokens: memoryTokenStore('tok') });

/** A scripted XMLHttpRequest: records what was sent, then answers (or loses the connection) on send. */
function fakeRequest(answer: { status: number; body: unknown } | 'lost', progress: Array<[number, number]> = []) {
  const seen: { method?: string; url?: string; headers: Record<string, string>; body?: FormData } = { headers: {} };
  const request: UploadRequest = {
    status: 0,
    responseText: '',
    timeout: 0,
    upload: { onprogress: null },
    onload: null,
    onerror: null,
    ontimeout: null,
    open(method, url) {
      seen.method = method;
      seen.url = url;
    },
    setRequestHeader(name, value) {
      seen.headers[name] = value;
    },
    send(body) {
      seen.body = body;
      for (const [loaded, total] of progress) request.upload.onprogress?.({ loaded, total, lengthComputable: true });
      if (answer === 'lost') return request.onerror?.();
      Object.assign(request, { status: answer.status, responseText: JSON.stringify(answer.body) });
      request.onload?.();
    },
  };
  return { request, seen };
}

const stored = {
  id: 7,
  material_id: 3,
  content_type: 'application/pdf',
  size_bytes: 10,
  sha256: 'x',
  file_name: 'scan.pdf',
  uploaded_at: '2026-12-01T02:00:00+00:00',
};

describe('checking a scan before it is sent', () => {
  it('takes PDF, JPG and PNG by type or by name within the limit', () => {
    expect(checkScan({ name: 'id.pdf', type: 'application/pdf', size: 1000 })).toBeNull();
    expect(checkScan({ name: 'id.JPG', type: '', size: 1000 })).toBeNull();
    expect(checkScan({ name: 'id.png', type: 'image/png', size: MAX_SCAN_BYTES })).toBeNull();
  });

  it('refuses another type, a file over the limit and an empty file, naming the file', () => {
    expect(checkScan({ name: 'id.gif', type: 'image/gif', size: 10 })).toContain('不是 PDF、JPG 或 PNG');
    expect(checkScan({ name: 'big.pdf', type: 'application/pdf', size: MAX_SCAN_BYTES + 1 })).toContain('超过 10 MB');
    expect(checkScan({ name: 'empty.pdf', type: 'application/pdf', size: 0 })).toContain('空文件');
  });

  it('says sizes as a clerk reads them', () => {
    expect([formatBytes(512), formatBytes(820 * 1024), formatBytes(1.45 * 1024 * 1024)]).toEqual(['512 B', '820 KB', '1.4 MB']);
  });
});

describe('material slots', () => {
  const file = (name: string, type: string, size = 10) => new File([new Uint8Array(size)], name, { type });

  it('marks a bad scan invalid at once and keeps it out of the uploads', () => {
    const bad = chosenSlot(1, file('a.gif', 'image/gif'));
    const good = chosenSlot(2, file('b.pdf', 'application/pdf'));
    expect(bad.status).toBe('invalid');
    expect(good).toMatchObject({ status: 'chosen', error: null, progress: 0 });
    expect(pendingSlots({ 1: bad, 2: good }).map((slot) => slot.materialId)).toEqual([2]);
  });

  it('retries the failed ones and is complete only when every scan is stored', () => {
    const base = chosenSlot(4, file('c.png', 'image/png'));
    const slots: Record<number, ScanSlot> = {
      4: { ...base, status: 'failed', error: '网络连接失败' },
      2: { ...base, materialId: 2, status: 'done' },
    };
    expect(pendingSlots(slots).map((slot) => slot.materialId)).toEqual([4]);
    expect(allStored(slots)).toBe(false);
    expect(allStored({ ...slots, 4: { ...slots[4], status: 'done' } })).toBe(true);
  });
});

describe('uploading a scan', () => {
  it('posts material_id and file with the token, reports progress and answers the stored file', async () => {
    const { request, seen } = fakeRequest({ status: 201, body: stored }, [
      [50, 100],
      [100, 100],
    ]);
    const progress: number[] = [];
    const blob = new File([new Uint8Array([37, 80, 68, 70])], 'scan.pdf', { type: 'application/pdf' });
    const answer = await uploadScan(api, 12, 3, blob, (percent) => progress.push(percent), () => request);
    expect(answer).toEqual(stored);
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/api/v1/staff/cases/12/materials');
    expect(seen.headers.Authorization).toBe('Bearer tok');
    expect(seen.body?.get('material_id')).toBe('3');
    expect((seen.body?.get('file') as File).name).toBe('scan.pdf');
    expect(progress).toEqual([50, 99, 100]);
  });

  it('rejects an error answer as ApiError with its code', async () => {
    const refused = { error: { code: 'MATERIALS_CLOSED', message: '办件已进入审查', request_id: 'r1', details: { status: 'in_review' } } };
    const { request } = fakeRequest({ status: 409, body: refused });
    const failure = uploadScan(api, 12, 3, new Blob(['%PDF']), undefined, () => request);
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ status: 409, code: 'MATERIALS_CLOSED' });
  });

  it('rejects a lost connection as NetworkError whose retry sends again', async () => {
    const attempts = [fakeRequest('lost'), fakeRequest({ status: 201, body: stored })];
    let made = 0;
    const failure = await uploadScan(api, 12, 3, new Blob(['%PDF']), undefined, () => attempts[made++].request).catch((e) => e);
    expect(failure).toBeInstanceOf(NetworkError);
    await expect((failure as NetworkError).retry()).resolves.toEqual(stored);
    expect(made).toBe(2);
  });
});

describe('the receipt lists what the window received', () => {
  it('names each material with its checked paper and its scans', () => {
    const rows = receivedMaterials({
      materials: [
        { id: 3, name: '身份证', required: true, form: 'original', e_licence: false, copies: 1, files: [stored], licences: [] },
        { id: 4, name: '户口簿', required: false, form: 'copy', e_licence: false, copies: 1, files: [], licences: [] },
      ],
      timeline: [
        {
          at: '2026-12-01T02:00:00+00:00',
          action: 'file_at_window',
          from: null,
          to: 'submitted',
          actor: 'clerk',
          note: '',
          details: { materials_checked: [{ material_id: 3, material_name: '身份证' }] },
        },
      ],
    });
    expect(rows).toEqual([
      { id: 3, name: '身份证', checked: true, files: [stored] },
      { id: 4, name: '户口簿', checked: false, files: [] },
    ]);
  });
});
