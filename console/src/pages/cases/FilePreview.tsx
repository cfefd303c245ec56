import { useEffect, useRef, useState } from 'react';
import { Alert, Button, Loading } from 'tdesign-react';
import { GlobalWorkerOptions, getDocument } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';
import { api } from '../../api';
import { caseErrorText, fetchMaterialFile } from '../../cases/service';
import type { Schema } from '@govhall/api-client';

// pdf.js parses in a worker of its own; Vite emits the worker as an asset and gives its URL.
GlobalWorkerOptions.workerSrc = workerUrl;

type MaterialFile = Schema<'MaterialFileOut'>;

/** One material file: PDF pages drawn by pdf.js, an image zoomable and rotatable. */
export default function FilePreview({ caseId, file }: { caseId: number; file: MaterialFile }) {
  const [blob, setBlob] = useState<Blob | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setBlob(null);
    setError(null);
    fetchMaterialFile(api, caseId, file.id)
      .then((data) => live && setBlob(data))
      .catch((failure) => live && setError(caseErrorText(failure)));
    return () => {
      live = false;
    };
  }, [caseId, file.id]);
  if (error) return <Alert theme="error" message={`文件无法打开：${error}`} />;
  if (!blob) return <Loading text="正在载入文件…" />;
  return file.content_type === 'application/pdf' ? (
    <PdfPages blob={blob} name={file.file_name} />
  ) : (
    <ImageViewer blob={blob} name={file.file_name} />
  );
}

function PdfPages({ blob, name }: { blob: Blob; name: string }) {
  const holder = useRef<HTMLDivElement>(null);
  const [pages, setPages] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    (async () => {
      const loading = getDocument({ data: new Uint8Array(await blob.arrayBuffer()) });
      try {
        const pdf = await loading.promise;
        if (cancelled) return;
        setPages(pdf.numPages);
        const target = holder.current;
        if (!target) return;
        target.replaceChildren();
        for (let number = 1; number <= pdf.numPages && !cancelled; number += 1) {
          const page = await pdf.getPage(number);
          const viewport = page.getViewport({ scale: 1.2 });
          const canvas = document.createElement('canvas');
          canvas.width = viewport.width;
          canvas.height = viewport.height;
          canvas.setAttribute('role', 'img');
          canvas.setAttribute('aria-label', `${name} 第 ${number} 页`);
          canvas.className = 'pdf-page';
          target.appendChild(canvas);
          await page.render({ canvas, viewport }).promise;
        }
      } catch {
        if (!cancelled) setError('这份 PDF 无法显示，可能已损坏；请请申请人重新上传。');
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [blob, name]);
  return (
    <div className="pdf-preview">
      {error ? <Alert theme="error" message={error} /> : <p className="preview-note">PDF，共 {pages || '…'} 页</p>}
      {/* Focusable: a clerk scrolls the pages with the keyboard too. */}
      <div ref={holder} className="pdf-pages" data-testid="pdf-pages" tabIndex={0} role="region" aria-label={`${name} 页面`} />
    </div>
  );
}

function ImageViewer({ blob, name }: { blob: Blob; name: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [zoom, setZoom] = useState(1);
  const [rotation, setRotation] = useState(0);
  useEffect(() => {
    const made = URL.createObjectURL(blob);
    setUrl(made);
    return () => URL.revokeObjectURL(made);
  }, [blob]);
  return (
    <div className="image-preview">
      <div className="image-tools" role="toolbar" aria-label={`${name} 查看工具`}>
        <Button size="small" variant="outline" onClick={() => setZoom((z) => Math.min(4, z + 0.25))}>放大</Button>
        <Button size="small" variant="outline" onClick={() => setZoom((z) => Math.max(0.25, z - 0.25))}>缩小</Button>
        <Button size="small" variant="outline" onClick={() => setRotation((r) => (r + 90) % 360)}>旋转</Button>
        <Button size="small" variant="outline" onClick={() => { setZoom(1); setRotation(0); }}>复原</Button>
        <span className="preview-note" data-testid="image-state">{Math.round(zoom * 100)}% · {rotation}°</span>
      </div>
      <div className="image-stage" tabIndex={0} role="region" aria-label={`${name} 图像`}>
        {url && (
          <img
            src={url}
            alt={name}
            style={{ transform: `rotate(${rotation}deg) scale(${zoom})` }}
            data-testid="image-preview"
          />
        )}
      </div>
    </div>
  );
}
