// The gatt.* and eval.* calls of the contract, answered by the GattService.
import type { AreaHandlers } from '../../core-deps';
import type { gattContract } from '../../../shared/contract-gatt';
import type { GattService } from './gatt-service';

export function gattHandlers(service: GattService): AreaHandlers<typeof gattContract> {
  return {
    'gatt.instructions': (r) => service.instructions(r),
    'gatt.synthesize': (r) => service.synthesize(r),
    'gatt.cancel': (r) => service.cancel(r.jobId),
    'eval.adherence': (r) => service.adherence(r),
  };
}
