// The machine's part of the contract (spread into contract.ts): the compute backends and devices
// the engine finds (with free memory), the user's device choice for chat contexts, and what the
// loaded model really runs on — with the fallback notice the UI must show (never a silent CPU).
import { z } from 'zod';

export const DeviceChoice = z.enum(['auto', 'cpu', 'cuda']);
export type DeviceChoice = z.output<typeof DeviceChoice>;

/** How chat contexts are created. gpuLayers: layers on the GPU counted from the last; null = all. */
export const DeviceSettings = z.object({
  device: DeviceChoice.default('auto'),
  gpuLayers: z.number().int().min(0).max(1024).nullable().default(null),
});
export type DeviceSettings = z.output<typeof DeviceSettings>;

export const GpuDevice = z.object({
  index: z.number().int(),
  name: z.string(),
  memoryBytes: z.number(),
  freeBytes: z.number(),
  /** "8.0", "9.0" ... */
  computeCapability: z.string(),
  bf16: z.boolean(),
  /** The CPU emulator of the CUDA backend (tests), never a real GPU. */
  emulated: z.boolean(),
  /** The tensor-core GEMM serving it: "wgmma (sm_90a)" or "mma.sync (wgmma: <why not>)". */
  matmul: z.string(),
});
export type GpuDevice = z.output<typeof GpuDevice>;

export const DevicesInfo = z.object({
  cpu: z.object({ name: z.string(), memoryBytes: z.number() }),
  cuda: z.object({
    /** The CUDA module is present in this build. */
    compiled: z.boolean(),
    loaded: z.boolean(),
    /** Why there is no usable device, when there is none. */
    reason: z.string().nullable(),
    devices: z.array(GpuDevice),
  }),
});
export type DevicesInfo = z.output<typeof DevicesInfo>;

/** What a context (or trainer) runs on, as the engine reports it after creating it. */
export const BackendReport = z.object({
  name: z.enum(['cpu', 'cuda']),
  deviceName: z.string(),
  /** Layers on the GPU and in the model (null when the engine build does not say). */
  gpuLayers: z.number().int().nullable(),
  layerCount: z.number().int().nullable(),
  deviceBytes: z.number(),
  /** A fallback or limitation the user must see (e.g. "CUDA unavailable: ...; running on the CPU"). */
  notice: z.string().nullable(),
});
export type BackendReport = z.output<typeof BackendReport>;

/** core/memory-plan.ts's answer: bytes on the GPU and in host RAM, item by item. */
export const MemoryPlan = z.object({
  device: z.enum(['cpu', 'cuda']),
  gpuLayers: z.number().int(),
  deviceBytes: z.number(),
  hostBytes: z.number(),
  deviceBreakdown: z.record(z.string(), z.number()),
  hostBreakdown: z.record(z.string(), z.number()),
});
export type MemoryPlan = z.output<typeof MemoryPlan>;

const Empty = z.object({}).strict();

export const systemContract = {
  /** Backends and devices (asks the engine: GPU free memory changes), the device settings, and the last backend report. */
  'system.devices': {
    request: Empty,
    response: z.object({ devices: DevicesInfo, settings: DeviceSettings, backend: BackendReport.nullable() }),
  },
  /** Changes the device settings (persisted); the next chat reply creates its context with them. */
  'system.setDeviceSettings': { request: DeviceSettings.partial(), response: DeviceSettings },
  /**
   * A model's chat memory plan for a context length on a device (gpuLayers null = all), with the
   * CUDA device's free memory and the most GPU layers that fit it (null without a device).
   */
  'system.memoryPlan': {
    request: z.object({
      modelId: z.string(),
      contextLength: z.number().int().min(16).max(1 << 20),
      device: z.enum(['cpu', 'cuda']),
      gpuLayers: z.number().int().min(0).nullable().default(null),
    }),
    response: z.object({ plan: MemoryPlan, freeBytes: z.number().nullable(), suggestedGpuLayers: z.number().int().nullable() }),
  },
} as const;

export const systemEvents = {
  /** The loaded chat model's backend, after each (re)created context. */
  'engine.backend': BackendReport,
} as const;
