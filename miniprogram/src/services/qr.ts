import qrcode from 'qrcode-generator';

/** The QR code of a text as rows of modules (true: dark), error correction M, the smallest version that fits. */
export function qrMatrix(text: string): boolean[][] {
  const code = qrcode(0, 'M');
  code.addData(text);
  code.make();
  const size = code.getModuleCount();
  return Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, col) => code.isDark(row, col)));
}

export interface QrRun {
  dark: boolean;
  length: number;
}

/**
 * Each row as runs of equal modules: drawn as a few Views per row (every platform has Views; SVG data URIs and
 * canvas differ between WeChat, Alipay and the browser), far fewer nodes than one View per module.
 */
export function qrRuns(matrix: boolean[][]): QrRun[][] {
  return matrix.map((row) => {
    const runs: QrRun[] = [];
    for (const dark of row) {
      const last = runs[runs.length - 1];
      if (last && last.dark === dark) last.length += 1;
      else runs.push({ dark, length: 1 });
    }
    return runs;
  });
}
