// The runs.* and compare.* calls of the contract, answered by the RunService.
import type { AreaHandlers } from '../core-deps';
import type { runsContract } from '../../shared/contract-runs';
import type { RunService } from './run-service';

export function runHandlers(service: RunService): AreaHandlers<typeof runsContract> {
  const todo = (name: string) => () => {
    void service;
    throw new Error(`${name}: not implemented yet`);
  };
  return {
    'runs.presets': todo('runs.presets'),
    'runs.estimate': todo('runs.estimate'),
    'runs.create': todo('runs.create'),
    'runs.list': todo('runs.list'),
    'runs.get': todo('runs.get'),
    'runs.metrics': todo('runs.metrics'),
    'runs.logs': todo('runs.logs'),
    'runs.pause': todo('runs.pause'),
    'runs.resume': todo('runs.resume'),
    'runs.cancel': todo('runs.cancel'),
    'runs.delete': todo('runs.delete'),
    'runs.export': todo('runs.export'),
    'compare.send': todo('compare.send'),
    'compare.rate': todo('compare.rate'),
    'compare.preferences': todo('compare.preferences'),
  };
}
