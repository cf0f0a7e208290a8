// One line saying where a model runs, for the chat's status area, logs and the CLI's stderr:
// "CUDA · NVIDIA H100 80GB HBM3 · 22/22 layers · 3.1 GB", or "CPU".
import type { BackendReport } from './contract-system';

export function backendLabel(b: BackendReport): string {
  if (b.name === 'cpu') return 'CPU';
  const parts = ['CUDA', b.deviceName];
  if (b.gpuLayers !== null && b.layerCount !== null) parts.push(`${b.gpuLayers}/${b.layerCount} layers`);
  if (b.deviceBytes > 0) parts.push(b.deviceBytes >= 1e9 ? `${(b.deviceBytes / 1e9).toFixed(1)} GB` : `${Math.max(1, Math.round(b.deviceBytes / 1e6))} MB`);
  return parts.join(' · ');
}
