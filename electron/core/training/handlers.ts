// The runs.* and compare.* calls of the contract, answered by the RunService.
import type { AreaHandlers } from '../core-deps';
import type { runsContract } from '../../shared/contract-runs';
import type { RunService } from './run-service';

export function runHandlers(service: RunService): AreaHandlers<typeof runsContract> {
  return {
    'runs.presets': () => service.presets(),
    'runs.estimate': (r) => service.estimate(r),
    'runs.create': (r) => service.create(r),
    'runs.list': () => service.list(),
    'runs.get': (r) => service.get(r.runId),
    'runs.metrics': (r) => service.metricsOf(r.runId, r.sinceStep),
    'runs.logs': (r) => service.logs(r.runId),
    'runs.pause': (r) => service.pause(r.runId),
    'runs.resume': (r) => service.resume(r.runId),
    'runs.cancel': (r) => service.cancel(r.runId),
    'runs.delete': (r) => {
      service.delete(r.runId);
      return { ok: true as const };
    },
    'runs.export': (r) => service.exporter.export(r.runId, r.format, r.type, r.path),
    'compare.send': (r) => service.compare.send(r),
    'compare.rate': (r) => service.compare.rate(r),
    'compare.preferences': (r) => service.compare.preferences(r.runId),
  };
}
