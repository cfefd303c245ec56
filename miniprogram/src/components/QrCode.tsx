import { useMemo } from 'react';
import { View } from '@tarojs/components';
import { qrMatrix, qrRuns } from '../services/qr';

/** A QR code drawn as rows of Views (every platform draws Views the same way), with its text for screen readers. */
export default function QrCode({ text, size = 200, label }: { text: string; size?: number; label: string }) {
  const runs = useMemo(() => qrRuns(qrMatrix(text)), [text]);
  // A quiet zone of two modules each side, as scanners need.
  const cell = Math.floor(size / (runs.length + 4));
  const side = cell * runs.length;
  return (
    <View className="qr" role="img" aria-label={label} style={{ padding: `${cell * 2}px`, background: '#fff', display: 'inline-block' }}>
      <View style={{ width: `${side}px`, height: `${side}px` }}>
        {runs.map((row, index) => (
          <View key={index} style={{ display: 'flex', height: `${cell}px` }}>
            {row.map((run, at) => (
              <View key={at} style={{ width: `${cell * run.length}px`, height: `${cell}px`, background: run.dark ? '#000' : '#fff' }} />
            ))}
          </View>
        ))}
      </View>
    </View>
  );
}
