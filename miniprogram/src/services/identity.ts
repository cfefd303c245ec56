import { ApiError } from '@govhall/api-client';
import type { ApiClient, Schema } from '@govhall/api-client';
import type { PlatformAdapter, Verification } from '../platform/types';
import { RealNameCancelled } from '../platform/types';
import type { Citizen } from './session';
import { describeFailure } from './errors';

export type { Verification };

/** What the citizen types in step 1. */
export interface IdentityForm {
  name: string;
  idNumber: string;
  phone: string;
}

export type IdentityField = keyof IdentityForm;

const NAME = /^[\u4e00-\u9fa5A-Za-z·•. ]{2,30}$/;
const ID_NUMBER = /^[0-9]{17}[0-9Xx]$/;
const MOBILE = /^1[3-9][0-9]{9}$/;

/** The form's obvious slips, named per field before anything is sent (the server checks the rest: GB 11643). */
export function checkIdentityForm(form: IdentityForm): Partial<Record<IdentityField, string>> {
  const problems: Partial<Record<IdentityField, string>> = {};
  if (!NAME.test(form.name.trim())) problems.name = '请填写身份证上的姓名（2 到 30 个字）';
  if (!ID_NUMBER.test(form.idNumber.trim())) problems.idNumber = '身份证号码应为 18 位，最后一位可以是数字或 X';
  if (!MOBILE.test(form.phone.replace(/[\s-]/g, ''))) problems.phone = '请填写 11 位手机号码';
  return problems;
}

/** Step 1: PUT /api/v1/me/identity. Nothing is bound yet; the answer says how the platform will confirm it. */
export async function startRealName(client: ApiClient, form: IdentityForm): Promise<Verification> {
  // 202 Accepted: the typed client names only 200/201 answers, so the claim's shape is named here.
  const answer = (await client.PUT('/api/v1/me/identity', {
    body: { name: form.name.trim(), id_number: form.idNumber.trim().toUpperCase(), phone: form.phone.replace(/[\s-]/g, '') },
  })) as unknown as Schema<'IdentityClaimOut'>;
  return answer.verification;
}

/** Step 2: the platform's own real-name step (consent page or face), then confirm with its code and the SMS code. */
export async function finishRealName(client: ApiClient, platform: PlatformAdapter, verification: Verification, smsCode: string): Promise<Citizen> {
  const code = smsCode.trim();
  if (verification.sms_code_required && !/^[0-9]{6}$/.test(code)) {
    throw new IdentityInputError('请填写短信中的 6 位验证码');
  }
  const proof = await platform.verifyRealName(client, verification);
  const body: { code?: string; sms_code?: string } = {};
  if (proof.code) body.code = proof.code;
  if (verification.sms_code_required) body.sms_code = code;
  return client.POST('/api/v1/me/identity/verifications/{verification_id}/confirm', {
    path: { verification_id: verification.id },
    body,
  });
}

/** A slip the page catches before asking anyone (the SMS code's format). */
export class IdentityInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityInputError';
  }
}

/** What the page shows after a failed step: the words, and whether the verification is over (back to step 1). */
export interface IdentityFailure {
  text: string;
  /** The verification ended (failed, expired, closed): start again from the form. */
  restart: boolean;
  /** A button to try the same step again makes sense (network, platform down). */
  retry: boolean;
  /** The form field the message is about, when there is one. */
  field?: IdentityField;
}

/** Every identity error code in plain Chinese with the next step (the server's messages already name the reason). */
export function explainIdentityFailure(error: unknown): IdentityFailure {
  if (error instanceof IdentityInputError) return { text: error.message, restart: false, retry: false };
  if (error instanceof RealNameCancelled) return { text: error.message, restart: false, retry: true };
  if (!(error instanceof ApiError)) return { ...describeFailure(error), restart: false };
  const details = error.details ?? {};
  switch (error.code) {
    case 'INVALID_ID_NUMBER':
      return { text: `${error.message}，请核对身份证号码（18 位，末位可能是 X）`, restart: false, retry: false, field: 'idNumber' };
    case 'INVALID_PHONE':
      return { text: error.message, restart: false, retry: false, field: 'phone' };
    case 'VALIDATION_FAILED':
      return { text: '填写的信息格式不正确，请核对姓名、身份证号和手机号', restart: false, retry: false };
    case 'VERIFICATION_METHOD_UNAVAILABLE':
      return { text: `${error.message}（网页版请用微信方式）`, restart: true, retry: false };
    case 'IDENTITY_ALREADY_BOUND':
      return { text: `${error.message}。如需更正，请携带身份证到政务服务大厅窗口办理`, restart: true, retry: false };
    case 'IDENTITY_TAKEN':
      return { text: error.message, restart: true, retry: false };
    case 'RATE_LIMITED':
      return { text: '今天的实名认证次数已用完（每个账号、每个身份证号每天次数有限），请明天再试', restart: true, retry: false };
    case 'IDENTITY_NOT_VERIFIED':
      return { text: `${error.message}。本次认证已结束，请核对后重新提交`, restart: true, retry: false };
    case 'SMS_CODE_WRONG': {
      const left = typeof details.attempts_left === 'number' ? details.attempts_left : null;
      if (left === 0) return { text: '短信验证码错误次数过多，本次认证已结束，请重新提交获取新验证码', restart: true, retry: false };
      return { text: left === null ? '短信验证码不正确，请重新输入' : `短信验证码不正确，还可以再试 ${left} 次`, restart: false, retry: false };
    }
    case 'CONSENT_CODE_REQUIRED':
      return { text: error.message, restart: false, retry: true };
    case 'VERIFICATION_EXPIRED':
    case 'VERIFICATION_CLOSED':
    case 'VERIFICATION_NOT_FOUND':
      return { text: `${error.message}`, restart: true, retry: false };
    case 'PLATFORM_UNAVAILABLE':
    case 'SERVICE_UNAVAILABLE':
      return { text: `${error.message}，认证仍然有效，请稍后点「重试」`, restart: false, retry: true };
    default:
      return { ...describeFailure(error), restart: false };
  }
}

/** How the me page sums up the real-name state (masked numbers only, as the API gives them). */
export function realNameSummary(citizen: Citizen): { verified: boolean; title: string; lines: string[] } {
  if (!citizen.real_name_verified) return { verified: false, title: '未实名认证', lines: ['实名认证后才能预约、申办和授权代办'] };
  const by = citizen.real_name_method === 'alipay' ? '支付宝刷脸认证' : citizen.real_name_method === 'wechat' ? '微信实名校验' : '已核验';
  const lines = [`认证方式 ${by}`, `身份证号 ${citizen.id_number_masked ?? '—'}`];
  if (citizen.phone_masked) lines.push(`手机号 ${citizen.phone_masked}`);
  return { verified: true, title: `${citizen.name ?? ''} · 已实名`, lines };
}

/** What the step-2 button says on this platform. */
export function proofActionLabel(verification: Verification): string {
  return verification.method === 'alipay' ? '开始刷脸认证' : '前往微信授权并完成认证';
}
