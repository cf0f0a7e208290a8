// The machine as the app sees it: the engine's backends and devices (asked fresh each time: free
// GPU memory changes), the user's device settings for chat contexts (a small JSON file in the data
// folder, so they survive restarts), and the last backend the engine reported for the loaded model.
import fs from 'node:fs';
import path from 'node:path';
import {
  DeviceSettings,
  type BackendReport,
  type DevicesInfo,
} from '../../shared/contract-system';
import type { NativeDevices } from '../../engine/addon';
import type { CoreDeps } from '../core-deps';
import { layerParameters, planInference, suggestGpuLayers, type MemoryPlan, type PlanDevice, type PlanModel } from '../memory-plan';
import { PaddockError } from '../errors';
import { modelShape } from '../training/run-form';
import type { ModelRecord } from '../../shared/contract';

const SETTINGS_FILE = 'device-settings.json';

/** The addon's snake_case answer as the contract's DevicesInfo. */
export function toDevicesInfo(n: NativeDevices): DevicesInfo {
  const [cpu, cuda] = n.backends;
  const cpuDevice = cpu.devices[0] ?? { name: 'CPU', memory_bytes: 0 };
  return {
    cpu: { name: cpuDevice.name, memoryBytes: cpuDevice.memory_bytes },
    cuda: {
      compiled: cuda.compiled,
      loaded: cuda.loaded,
      reason: cuda.reason ?? null,
      devices: cuda.devices.map((d) => ({
        index: d.index,
        name: d.name,
        memoryBytes: d.memory_bytes,
        freeBytes: d.free_bytes,
        computeCapability: d.compute_capability,
        bf16: d.bf16,
        emulated: d.emulated,
        matmul: d.matmul,
      })),
    },
  };
}

export class SystemService {
  private settings: DeviceSettings;
  private lastBackend: BackendReport | null = null;

  constructor(private readonly deps: Pick<CoreDeps, 'engine' | 'emit' | 'dataDir'> & { models?: CoreDeps['models'] }) {
    this.settings = this.readSettings();
  }

  async devices(): Promise<DevicesInfo> {
    return toDevicesInfo(await this.deps.engine.call('devices', {}));
  }

  /** Free bytes of CUDA device 0, or null when there is none. */
  async cudaFreeBytes(): Promise<number | null> {
    const d = (await this.devices()).cuda.devices[0];
    return d ? d.freeBytes : null;
  }

  /** The chat memory plan of a registered model; the GPU suggestion uses device 0's free memory. */
  async memoryPlan(modelId: string, contextLength: number, device: PlanDevice, gpuLayers: number | null): Promise<{ plan: MemoryPlan; freeBytes: number | null; suggestedGpuLayers: number | null }> {
    const record = this.deps.models?.list().find((m) => m.id === modelId);
    if (!record) throw new PaddockError('NOT_FOUND', `No model with id ${modelId}.`);
    const m = planModelOf(record);
    const freeBytes = await this.cudaFreeBytes();
    return {
      plan: planInference(m, device, contextLength, gpuLayers ?? m.layers),
      freeBytes,
      suggestedGpuLayers: freeBytes === null ? null : suggestGpuLayers(m, contextLength, freeBytes),
    };
  }

  deviceSettings(): DeviceSettings {
    return { ...this.settings };
  }

  setDeviceSettings(patch: Partial<DeviceSettings>): DeviceSettings {
    this.settings = DeviceSettings.parse({ ...this.settings, ...patch });
    const file = this.settingsFile();
    if (file) fs.writeFileSync(file, `${JSON.stringify(this.settings)}\n`);
    return this.deviceSettings();
  }

  /** What generate requests carry: only the fields that differ from the engine's defaults. */
  generateOptions(): { device: DeviceSettings['device']; gpuLayers?: number } {
    const s = this.settings;
    return { device: s.device, ...(s.gpuLayers !== null && { gpuLayers: s.gpuLayers }) };
  }

  backend(): BackendReport | null {
    return this.lastBackend;
  }

  /** Called with each reply's backend; the UI is told when it changes (a notice must show at once). */
  recordBackend(b: BackendReport): void {
    const changed = JSON.stringify(b) !== JSON.stringify(this.lastBackend);
    this.lastBackend = b;
    if (changed) this.deps.emit('engine.backend', b);
  }

  private settingsFile(): string | null {
    return this.deps.dataDir === ':memory:' ? null : path.join(this.deps.dataDir, SETTINGS_FILE);
  }

  private readSettings(): DeviceSettings {
    const file = this.settingsFile();
    try {
      if (file && fs.existsSync(file)) return DeviceSettings.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
    } catch (err) {
      process.stderr.write(`${file}: unreadable device settings, using the defaults (${(err as Error).message})\n`);
    }
    return DeviceSettings.parse({});
  }
}

/** The planner's view of a registered model; tying is read from the parameter count (the record does not store it). */
export function planModelOf(r: ModelRecord): PlanModel {
  const s = modelShape(r);
  const layers = s.layers * layerParameters(s) + s.dim;
  const tiedEmbeddings = Math.abs(r.parameterCount - (layers + s.vocab * s.dim)) <= Math.abs(r.parameterCount - (layers + 2 * s.vocab * s.dim));
  return { ...s, tiedEmbeddings, parameterCount: r.parameterCount, fileBytes: r.fileBytes };
}
