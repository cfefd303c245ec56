import { useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Input, Picker, Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import PageShell from '../../components/PageShell';
import MaterialList from '../../components/cases/MaterialList';
import { Empty, Field, Notice, Section, FOCUSABLE } from '../../components/cases/ui';
import platform from '../../platform';
import { api } from '../../services/api';
import {
  checkForm,
  createDraft,
  formBody,
  formFieldsOf,
  formValues,
  loadCase,
  loadMatter,
  myLicences,
  proxiesFor,
  saveForm,
  submitCase,
  yuan,
} from '../../services/cases';
import type { Case, FormField, Licence, Matter, ProxyGrant } from '../../services/cases';
import { describeFailure } from '../../services/errors';
import { ON_SUBMIT, subscribe, templateIdsFor } from '../../services/subscribe';
import { useCitizenLoad } from '../../hooks/useCitizenLoad';

function FormControl({ field, value, onChange }: { field: FormField; value: string; onChange: (value: string) => void }) {
  if (field.type === 'select' && field.options?.length) {
    const index = Math.max(0, field.options.indexOf(value));
    return (
      <Picker mode="selector" range={field.options} value={index} onChange={(event) => onChange(field.options![Number(event.detail.value)])}>
        <View className="cz-input" role="button" aria-label={`选择${field.label}`}>
          {value || `请选择${field.label}`}
        </View>
      </Picker>
    );
  }
  if (field.type === 'date') {
    return (
      <Picker mode="date" value={value} onChange={(event) => onChange(String(event.detail.value))}>
        <View className="cz-input" role="button" aria-label={`选择${field.label}`}>
          {value || `请选择${field.label}`}
        </View>
      </Picker>
    );
  }
  return (
    <Input
      className="cz-input"
      type={field.type === 'number' ? 'digit' : field.type === 'phone' ? 'number' : field.type === 'id_number' ? 'idcard' : 'text'}
      value={value}
      maxlength={field.max_length ?? (field.type === 'id_number' ? 18 : field.type === 'phone' ? 11 : 200)}
      placeholder={`请输入${field.label}`}
      onInput={(event) => onChange(event.detail.value)}
    />
  );
}

export default function Apply() {
  const { params } = useRouter();
  const matterId = Number(params.matter_id);
  const [matter, setMatter] = useState<Matter | null>(null);
  const [item, setItem] = useState<Case | null>(null);
  const [grants, setGrants] = useState<ProxyGrant[]>([]);
  const [forWhom, setForWhom] = useState<number | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [licences, setLicences] = useState<Licence[]>([]);
  const [missing, setMissing] = useState<{ id: number; name: string }[]>([]);
  const [templates, setTemplates] = useState<string[]>([]);
  const [notify, setNotify] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  function show(next: Case) {
    setItem(next);
    setValues(formValues(formFieldsOf(next), next.form));
  }

  const { loading, failure, reload } = useCitizenLoad(async () => {
    const existing = params.case_id ? await loadCase(api, Number(params.case_id)) : null;
    const guide = await loadMatter(api, existing ? existing.matter_id : matterId);
    setMatter(guide);
    if (existing) show(existing);
    else setGrants(await proxiesFor(api, guide.id));
    setLicences(await myLicences(api));
    setTemplates(await templateIdsFor(api, platform, ON_SUBMIT));
  }, [params.case_id, matterId]);

  async function refresh() {
    if (!item) return;
    const fresh = await loadCase(api, item.id);
    if (fresh) {
      setItem(fresh);
      setMissing((now) => now.filter((m) => !fresh.materials.some((material) => material.id === m.id && (material.files.length || material.licences.length))));
    }
  }

  async function start() {
    if (!matter) return;
    setBusy(true);
    setError('');
    try {
      show(await createDraft(api, matter.id, forWhom));
    } catch (failed) {
      setError(describeFailure(failed).text);
    } finally {
      setBusy(false);
    }
  }

  async function submit() {
    if (!item) return;
    const fields = formFieldsOf(item);
    const found = checkForm(fields, values);
    setProblems(found);
    if (Object.keys(found).length) {
      setError('申请表还有需要修改的地方，请看红字提示');
      return;
    }
    // The subscribe dialog opens inside this tap, before any request (WeChat refuses it later).
    const subscribing = notify ? subscribe(api, platform, templates) : Promise.resolve(0);
    setBusy(true);
    setError('');
    try {
      await subscribing;
      const saved = await saveForm(api, item, formBody(fields, values));
      const result = await submitCase(api, saved);
      if ('missing' in result) {
        setItem(saved);
        setMissing(result.missing);
        setError('');
        return;
      }
      Taro.redirectTo({ url: `/pages-cases/detail/index?id=${result.case.id}&submitted=1` });
    } catch (failed) {
      setError(describeFailure(failed).text);
    } finally {
      setBusy(false);
    }
  }

  const licenceTypes = Object.fromEntries((matter?.materials ?? []).map((m) => [m.id, m.licence_type]));
  const fields = item ? formFieldsOf(item) : [];

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">{matter ? matter.name : '在线申请'}</Text>
        {matter && (
          <Text className="cz-header-sub">
            {matter.department_name} · 承诺 {matter.promised_days} 个工作日{matter.amount_fen > 0 ? ` · 收费 ${yuan(matter.amount_fen)}` : ' · 不收费'}
          </Text>
        )}
      </View>
      {failure && <Notice text={failure.text} onRetry={failure.retry ? () => void reload() : undefined} />}
      {loading && <Notice tone="info" text="正在加载…" />}
      {!item && matter && (
        <Section title="为谁办理">
          <View className="cz-chips" role="radiogroup" aria-label="申请人">
            <View className={`cz-chip${forWhom === null ? ' cz-chip-on' : ''}`} role="radio" {...FOCUSABLE} aria-checked={forWhom === null} onClick={() => setForWhom(null)}>
              本人
            </View>
            {grants.map((grant) => (
              <View
                key={grant.id}
                className={`cz-chip${forWhom === grant.principal.id ? ' cz-chip-on' : ''}`}
                role="radio" {...FOCUSABLE}
                aria-checked={forWhom === grant.principal.id}
                onClick={() => setForWhom(grant.principal.id)}
              >
                代 {grant.principal.name ?? '委托人'}（{grant.principal.id_number_masked ?? ''}）
              </View>
            ))}
          </View>
          {grants.length === 0 && <Text className="cz-field-hint">如需替家人办理，请先让家人在“我的 › 代办授权”中授权给您。</Text>}
          <Button type="primary" block loading={busy} onClick={() => void start()}>
            开始填写申请
          </Button>
        </Section>
      )}
      {item && (
        <>
          {item.filed_by_proxy && <Notice tone="info" text={`代办：申请人 ${item.applicant_name}（${item.id_number_masked}）`} />}
          <Section title="申请表">
            {fields.length === 0 && <Empty text="本事项无需填写申请表" />}
            {fields.map((field) => (
              <Field key={field.name} label={field.label} required={field.required} error={problems[field.name]} hint={field.prefill ? '已按您的实名信息填好，号码已打码显示' : undefined}>
                <FormControl field={field} value={values[field.name] ?? ''} onChange={(value) => setValues((now) => ({ ...now, [field.name]: value }))} />
              </Field>
            ))}
          </Section>
          {missing.length > 0 && (
            <View className="cz-notice cz-notice-error" role="alert" data-testid="missing">
              <View className="cz-missing-list">
                <Text>还缺少以下必交材料，请上传后再提交：</Text>
                {missing.map((m) => (
                  <Text key={m.id}>· {m.name}</Text>
                ))}
              </View>
            </View>
          )}
          <Section title="申请材料">
            <MaterialList item={item} licenceTypes={licenceTypes} licences={licences} missing={missing.map((m) => m.id)} onChanged={refresh} />
          </Section>
          <Section>
            <View className="cz-switch-row">
              <Text>接收办理进度通知（微信/支付宝消息）</Text>
              <View className={`cz-chip${notify ? ' cz-chip-on' : ''}`} role="switch" {...FOCUSABLE} aria-checked={notify} aria-label="接收办理进度通知" onClick={() => setNotify(!notify)}>
                {notify ? '接收' : '不接收'}
              </View>
            </View>
          </Section>
          {error && <Notice text={error} />}
          <View className="cz-actions">
            <Button type="primary" block loading={busy} onClick={() => void submit()}>
              提交申请
            </Button>
          </View>
        </>
      )}
      {!item && error && <Notice text={error} />}
    </PageShell>
  );
}
