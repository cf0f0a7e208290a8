// Devices as the UI sees them: what the engine found (CPU, CUDA GPUs with free memory), the
// user's device settings for chat, and the backend the loaded model really runs on — with its
// fallback notice, which the chat shows as a banner (a CPU fallback is never silent).
import type { BackendReport, DeviceSettings, DevicesInfo } from '../../../electron/shared/contract-system';
import { api } from './api';

export { backendLabel } from '../../../electron/shared/backend-label';

class Devices {
  info = $state<DevicesInfo | null>(null);
  settings = $state<DeviceSettings>({ device: 'auto', gpuLayers: null });
  backend = $state<BackendReport | null>(null);
  loadError = $state<string | null>(null);
  /** A CUDA device is usable (the CUDA choice makes sense). */
  hasGpu = $derived((this.info?.cuda.devices.length ?? 0) > 0);

  constructor() {
    api.on('engine.backend', (b) => (this.backend = b));
  }

  async load(): Promise<void> {
    try {
      const r = await api.call('system.devices', {});
      this.info = r.devices;
      this.settings = r.settings;
      if (r.backend) this.backend = r.backend;
      this.loadError = null;
    } catch (e) {
      this.loadError = (e as Error).message;
    }
  }

  async save(patch: Partial<DeviceSettings>): Promise<void> {
    this.settings = await api.call('system.setDeviceSettings', patch);
  }
}

export const devices = new Devices();
