// Engine methods about the machine: the addon's backends and devices (the host never loads the
// addon itself, so the device list comes from the engine process).
import type { NativeDevices } from '../engine/addon';

export interface SystemEngineMethods {
  devices: { params: Record<string, never>; result: NativeDevices };
}
