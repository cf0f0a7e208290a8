// `paddock devices`: the backends compiled in and the devices they found, as one JSON line on
// stdout (DESIGN.md "The command line"). Also the --device / --gpu-layers flags that generate,
// logits and train share, and the backend notice they print on stderr.
import { parseArgs } from 'node:util';
import type { BackendReport, DeviceChoice } from '../shared/contract-system';
import { loadAddon } from '../engine/addon';
import { readDevices } from '../engine/backend-report';
import { backendLabel } from '../shared/backend-label';
import { UsageError, numberArg } from './fail';

export const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'cpu', 'cuda'];

/** The parseArgs options of the device flags (train takes only --device: a trainer is all-or-nothing). */
export const deviceOptions = {
  device: { type: 'string' },
  'gpu-layers': { type: 'string' },
} as const;

export interface DeviceFlags {
  device: DeviceChoice;
  /** Layers on the GPU counted from the last; undefined = all. */
  gpuLayers?: number;
}

/** Reads --device (default `fallback`) and --gpu-layers N (a whole number >= 0; only with a GPU device). */
export function parseDeviceFlags(values: { device?: string; 'gpu-layers'?: string }, fallback: DeviceChoice): DeviceFlags {
  const device = (values.device ?? fallback) as DeviceChoice;
  if (!DEVICE_CHOICES.includes(device)) throw new UsageError(`--device must be one of ${DEVICE_CHOICES.join(', ')}, got "${values.device}"`);
  if (values['gpu-layers'] === undefined) return { device };
  const gpuLayers = numberArg('gpu-layers', values['gpu-layers'], 0, true);
  if (gpuLayers < 0) throw new UsageError(`--gpu-layers must be 0 or more, got "${values['gpu-layers']}"`);
  if (device === 'cpu') throw new UsageError('--gpu-layers needs --device auto or cuda');
  return { device, gpuLayers };
}

/** stderr, never stdout (stdout carries only the command's output): the fallback notice, and the GPU in use. */
export function reportBackend(b: BackendReport): void {
  if (b.notice) process.stderr.write(`[paddock] ${b.notice}\n`);
  if (b.name !== 'cpu') process.stderr.write(`[paddock] running on ${backendLabel(b)}\n`);
}

export async function devicesCommand(argv: string[]): Promise<void> {
  parseArgs({ args: argv, options: {}, strict: true });
  process.stdout.write(`${JSON.stringify(readDevices(loadAddon()))}\n`);
}
