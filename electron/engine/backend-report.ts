// What the engine tells the host about where work runs: the addon's device list, and the backend
// a context or trainer really got. Builds of the addon from before the CUDA backend have neither
// `devices()` nor `backend`: the answers then say so, and a CUDA request such a build ignores
// carries a notice — the user asked for a GPU and must see that they did not get one. (Builds with
// the backend refuse device 'cuda' without a GPU, and report auto's fallback in `notice`.)
import type { BackendReport, DeviceChoice } from '../shared/contract-system';
import type { Addon, NativeBackendInfo, NativeContext, NativeContextBackend, NativeDevices } from './addon';

export function readDevices(addon: Addon): NativeDevices {
  if (addon.devices) return addon.devices();
  const cpu = addon.backends().find((b) => b.name === 'cpu');
  return {
    backends: [
      { name: 'cpu', compiled: true, devices: cpu?.devices ?? [] },
      { name: 'cuda', compiled: false, loaded: false, reason: 'this engine build has no CUDA backend', devices: [] },
    ],
  };
}

const CPU_ONLY_BUILD = 'CUDA unavailable: this engine build has no CUDA backend; running on the CPU';

/** The report of a backend as the native side gave it, or of an older build that only runs on the CPU. */
export function backendReport(
  native: NativeBackendInfo | NativeContextBackend | undefined,
  requested: DeviceChoice,
  layerCount: number | null,
): BackendReport {
  if (!native) {
    return { name: 'cpu', deviceName: 'CPU', gpuLayers: 0, layerCount, deviceBytes: 0, notice: requested === 'cuda' ? CPU_ONLY_BUILD : null };
  }
  const layers = 'layerCount' in native ? native : undefined;
  let notice = native.notice || null;
  // The native side reports its own fallbacks; this only covers a CPU answer to a CUDA request without one.
  if (!notice && requested === 'cuda' && native.name !== 'cuda') notice = 'CUDA was requested but the engine is running on the CPU';
  return {
    name: native.name,
    deviceName: native.deviceName,
    gpuLayers: layers ? layers.gpuLayers : native.name === 'cpu' ? 0 : null,
    layerCount: layers ? layers.layerCount : layerCount,
    deviceBytes: native.deviceBytes,
    notice,
  };
}

export function contextBackendReport(ctx: NativeContext, requested: DeviceChoice, layerCount: number): BackendReport {
  return backendReport('backend' in ctx ? ctx.backend : undefined, requested, layerCount);
}
