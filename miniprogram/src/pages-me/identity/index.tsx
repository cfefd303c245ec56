import { useEffect, useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import ActionButton from '../../components/ActionButton';
import Field from '../../components/Field';
import PageShell from '../../components/PageShell';
import platform from '../../platform';
import { api } from '../../services/api';
import { describeFailure } from '../../services/errors';
import { checkIdentityForm, explainIdentityFailure, finishRealName, proofActionLabel, realNameSummary, startRealName } from '../../services/identity';
import type { IdentityFailure, IdentityField, IdentityForm, Verification } from '../../services/identity';
import { ensureLogin } from '../../services/session';
import type { Citizen } from '../../services/session';
import './index.scss';

const METHOD_WORDS = { wechat: '微信「实名信息校验」：将打开微信的授权页，核对您的微信支付实名', alipay: '支付宝刷脸认证：将打开支付宝人脸核验' };

export default function Identity() {
  const [citizen, setCitizen] = useState<Citizen | null>(null);
  const [form, setForm] = useState<IdentityForm>({ name: '', idNumber: '', phone: '' });
  const [problems, setProblems] = useState<Partial<Record<IdentityField, string>>>({});
  const [verification, setVerification] = useState<Verification | null>(null);
  const [smsCode, setSmsCode] = useState('');
  const [failure, setFailure] = useState<IdentityFailure | null>(null);
  const [busy, setBusy] = useState(false);
  const [loadFailure, setLoadFailure] = useState<string | null>(null);

  useEffect(() => {
    ensureLogin(api, platform)
      .then(setCitizen)
      .catch((error) => setLoadFailure(describeFailure(error).text));
  }, []);

  const edit = (field: IdentityField) => (value: string) => {
    setForm((current) => ({ ...current, [field]: value }));
    setProblems((current) => ({ ...current, [field]: undefined }));
  };

  async function start() {
    const found = checkIdentityForm(form);
    setProblems(found);
    setFailure(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      setVerification(await startRealName(api, form));
      setSmsCode('');
    } catch (error) {
      const explained = explainIdentityFailure(error);
      if (explained.field) setProblems({ [explained.field]: explained.text });
      setFailure(explained);
    } finally {
      setBusy(false);
    }
  }

  async function finish() {
    if (!verification) return;
    setBusy(true);
    setFailure(null);
    try {
      setCitizen(await finishRealName(api, platform, verification, smsCode));
      setVerification(null);
    } catch (error) {
      const explained = explainIdentityFailure(error);
      if (explained.restart) setVerification(null);
      setFailure(explained);
    } finally {
      setBusy(false);
    }
  }

  async function readSimulatedSms() {
    const code = platform.simTextedCode ? await platform.simTextedCode(api, form.phone.replace(/[\s-]/g, '')) : null;
    if (code) setSmsCode(code);
  }

  const summary = citizen ? realNameSummary(citizen) : null;

  return (
    <PageShell className="identity">
      {loadFailure && (
        <View className="gh-alert" role="alert">
          <Text>{loadFailure}</Text>
        </View>
      )}

      {summary?.verified && (
        <View className="gh-success" role="status" data-testid="identity-done">
          <Text className="gh-card-title">实名认证已完成</Text>
          <Text className="identity-line">{summary.title}</Text>
          {summary.lines.map((line) => (
            <Text key={line} className="identity-line">
              {line}
            </Text>
          ))}
          <View className="gh-actions">
            <ActionButton type="primary" onClick={() => void Taro.navigateBack()}>
              返回
            </ActionButton>
          </View>
        </View>
      )}

      {citizen && !summary?.verified && (
        <View className="identity-steps" aria-label="实名认证步骤">
          <Text className={`identity-step ${verification ? '' : 'is-current'}`}>1 填写身份信息</Text>
          <Text className={`identity-step ${verification ? 'is-current' : ''}`}>2 平台核验</Text>
        </View>
      )}

      {failure && (
        <View className="gh-alert" role="alert" data-testid="identity-failure">
          <Text>{failure.text}</Text>
        </View>
      )}

      {citizen && !summary?.verified && !verification && (
        <View className="gh-card">
          <Text className="gh-muted identity-hint">请填写本人身份证上的信息。信息只用于核验身份，保存后身份证号和手机号只显示部分数字。</Text>
          <Field label="姓名" value={form.name} onInput={edit('name')} error={problems.name} placeholder="如 张三" maxlength={30} />
          <Field label="身份证号码" value={form.idNumber} onInput={edit('idNumber')} error={problems.idNumber} placeholder="18 位，末位可能是 X" type="idcard" maxlength={18} />
          <Field label="手机号码" value={form.phone} onInput={edit('phone')} error={problems.phone} placeholder="用于接收短信验证码" type="number" maxlength={11} />
          <View className="gh-actions">
            <ActionButton block type="primary" loading={busy} onClick={() => void start()}>
              下一步：开始核验
            </ActionButton>
          </View>
        </View>
      )}

      {verification && (
        <View className="gh-card" data-testid="identity-confirm">
          <Text className="gh-card-title">平台核验</Text>
          <Text className="identity-line">
            {verification.name} · {verification.id_number_masked}
          </Text>
          <Text className="gh-muted identity-hint">{METHOD_WORDS[verification.method]}</Text>
          {verification.sms_code_required && (
            <>
              <Text className="identity-line">短信验证码已发送至 {verification.phone_masked}</Text>
              <Field label="短信验证码" value={smsCode} onInput={setSmsCode} placeholder="6 位数字" type="number" maxlength={6} />
              {platform.simTextedCode && (
                <ActionButton size="small" type="default" onClick={() => void readSimulatedSms()}>
                  演示环境：读取模拟短信
                </ActionButton>
              )}
            </>
          )}
          <View className="gh-actions">
            <ActionButton block type="primary" loading={busy} onClick={() => void finish()}>
              {failure?.retry ? `重试：${proofActionLabel(verification)}` : proofActionLabel(verification)}
            </ActionButton>
            <ActionButton
              block
              type="default"
              onClick={() => {
                setVerification(null);
                setFailure(null);
              }}
            >
              返回修改信息
            </ActionButton>
          </View>
        </View>
      )}
    </PageShell>
  );
}
