// The system.* calls of the contract, answered by the SystemService.
import type { AreaHandlers } from '../core-deps';
import type { systemContract } from '../../shared/contract-system';
import type { SystemService } from './system-service';

export function systemHandlers(service: SystemService): AreaHandlers<typeof systemContract> {
  return {
    'system.devices': async () => ({ devices: await service.devices(), settings: service.deviceSettings(), backend: service.backend() }),
    'system.setDeviceSettings': (r) => service.setDeviceSettings(r),
    'system.memoryPlan': (r) => service.memoryPlan(r.modelId, r.contextLength, r.device, r.gpuLayers),
  };
}
