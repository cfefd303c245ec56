import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Input, Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import PageShell from '../../components/PageShell';
import { Field, Notice, Section } from '../../components/cases/ui';
import platform from '../../platform';
import { api } from '../../services/api';
import { isIdNumber, linkCase } from '../../services/cases';
import { describeFailure } from '../../services/errors';
import { ensureLogin } from '../../services/session';

export default function LinkCase() {
  const [receiptNo, setReceiptNo] = useState('');
  const [idNumber, setIdNumber] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit() {
    if (!receiptNo.trim()) return setError('请填写受理回执上的受理编号');
    if (!isIdNumber(idNumber)) return setError('身份证号码有误，请核对 18 位号码（末位可为 X）');
    setBusy(true);
    setError('');
    try {
      await ensureLogin(api, platform);
      const linked = await linkCase(api, receiptNo, idNumber);
      Taro.redirectTo({ url: `/pages-cases/detail/index?id=${linked.id}` });
    } catch (failed) {
      setError(describeFailure(failed).text);
    } finally {
      setBusy(false);
    }
  }

  return (
    <PageShell className="cz-page">
      <View className="cz-header">
        <Text className="cz-header-title">关联窗口办件</Text>
        <Text className="cz-header-sub">在大厅窗口办理的事项，用回执上的受理编号关联后可在手机上查看进度</Text>
      </View>
      <Section>
        <Field label="受理编号" hint="如 RS-20261123-0007，见受理回执">
          <Input className="cz-input" value={receiptNo} maxlength={32} placeholder="请输入受理编号" onInput={(e) => setReceiptNo(e.detail.value)} />
        </Field>
        <Field label="申请人身份证号码" hint="仅用于核对是否本人办件，不会显示">
          <Input className="cz-input" type="idcard" value={idNumber} maxlength={18} placeholder="请输入申请人身份证号码" onInput={(e) => setIdNumber(e.detail.value)} />
        </Field>
        <Button type="primary" block loading={busy} onClick={() => void submit()}>
          关联并查看
        </Button>
      </Section>
      {error && <Notice text={error} />}
    </PageShell>
  );
}
