// The gatt.* and eval.* calls of the contract, answered by the GattService.
import type { AreaHandlers } from '../../core-deps';
import type { gattContract } from '../../../shared/contract-gatt';
import type { GattService } from './gatt-service';

export function gattHandlers(service: GattService): AreaHandlers<typeof gattContract> {
  const todo = (name: string) => () => {
    void service;
    throw new Error(`${name}: not implemented yet`);
  };
  return {
    'gatt.instructions': todo('gatt.instructions'),
    'gatt.synthesize': todo('gatt.synthesize'),
    'gatt.cancel': todo('gatt.cancel'),
    'eval.adherence': todo('eval.adherence'),
  };
}
