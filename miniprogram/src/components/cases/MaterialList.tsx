import { useState } from 'react';
import { Text, View } from '@tarojs/components';
import { Button } from '@nutui/nutui-react-taro';
import platform from '../../platform';
import { api } from '../../services/api';
import { attachLicence, hasMaterial, uploadMaterial } from '../../services/cases';
import type { Case, Licence } from '../../services/cases';
import { describeFailure } from '../../services/errors';

interface Props {
  item: Case;
  /** Which materials to list (default: all of the case's). */
  only?: number[];
  /** The guide's licence type per material id: the e-licence that stands for it. */
  licenceTypes: Record<number, string | null>;
  licences: Licence[];
  /** Materials the server named missing: highlighted. */
  missing: number[];
  /** Reasons the staff gave per material (supplement). */
  reasons?: Record<number, string>;
  onChanged: () => Promise<void> | void;
}

/** One row per material: what stands for it, an upload button, and the e-licence when the applicant holds it. */
export default function MaterialList({ item, only, licenceTypes, licences, missing, reasons, onChanged }: Props) {
  const [busy, setBusy] = useState<number | null>(null);
  const [errors, setErrors] = useState<Record<number, string>>({});
  const held = new Set(licences.filter((licence) => licence.valid).map((licence) => licence.licence_type));
  const materials = item.materials.filter((material) => !only || only.includes(material.id));

  async function upload(materialId: number) {
    // The picker opens first thing in the tap (browsers and mini-programs ask for the user's gesture).
    const picking = platform.chooseFile();
    setErrors((now) => ({ ...now, [materialId]: '' }));
    const file = await picking;
    if (!file) return;
    setBusy(materialId);
    try {
      await uploadMaterial(api, platform, item.id, materialId, file, API_BASE);
      await onChanged();
    } catch (error) {
      setErrors((now) => ({ ...now, [materialId]: describeFailure(error).text }));
    } finally {
      setBusy(null);
    }
  }

  async function useLicence(materialId: number) {
    setBusy(materialId);
    try {
      await attachLicence(api, item.id, materialId);
      await onChanged();
    } catch (error) {
      setErrors((now) => ({ ...now, [materialId]: describeFailure(error).text }));
    } finally {
      setBusy(null);
    }
  }

  return (
    <View className="cz-materials">
      {materials.map((material) => {
        const licenceType = licenceTypes[material.id];
        const present = hasMaterial(material);
        const isMissing = missing.includes(material.id);
        const fileNames = material.files.map((file) => file.file_name || '已上传文件').join('、');
        const licenceNames = material.licences.map((licence) => `${licence.name}（电子证照）`).join('、');
        return (
          <View key={material.id} className={`cz-material${isMissing ? ' cz-material-missing' : ''}`} data-testid={`material-${material.id}`}>
            <View className="cz-material-head">
              <Text className="cz-material-name">
                {material.name}
                {material.required && <Text className="cz-required"> *必交</Text>}
              </Text>
            </View>
            {reasons?.[material.id] && <Text className="cz-field-error">补正要求：{reasons[material.id]}</Text>}
            <Text className={`cz-material-state${present ? ' cz-material-done' : ''}`}>
              {present ? `已提供：${[licenceNames, fileNames].filter(Boolean).join('、')}` : isMissing ? '缺少此材料，请上传' : '尚未上传（PDF、JPG 或 PNG，10 MB 以内）'}
            </Text>
            <View className="cz-material-buttons">
              <Button size="small" type="primary" fill="outline" loading={busy === material.id} onClick={() => void upload(material.id)}>
                {present ? '重新上传' : '上传文件'}
              </Button>
              {licenceType && held.has(licenceType) && material.licences.length === 0 && (
                <Button size="small" type="primary" onClick={() => void useLicence(material.id)}>
                  用电子证照
                </Button>
              )}
            </View>
            {errors[material.id] && (
              <View className="cz-field-error" role="alert">
                {errors[material.id]}
              </View>
            )}
          </View>
        );
      })}
    </View>
  );
}
