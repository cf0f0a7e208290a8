// The device flags of generate / logits / train (electron/cli/devices.ts): defaults per command,
// refusals as usage errors, and --gpu-layers only where a GPU can be used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDeviceFlags } from '../../electron/cli/devices';
import { UsageError } from '../../electron/cli/fail';

test('--device defaults to the command\'s choice (auto for generate/logits, cpu for train)', () => {
  assert.deepEqual(parseDeviceFlags({}, 'auto'), { device: 'auto' });
  assert.deepEqual(parseDeviceFlags({}, 'cpu'), { device: 'cpu' });
  assert.deepEqual(parseDeviceFlags({ device: 'cuda' }, 'cpu'), { device: 'cuda' });
});

test('--gpu-layers N: a whole number >= 0, with auto or cuda', () => {
  assert.deepEqual(parseDeviceFlags({ 'gpu-layers': '12' }, 'auto'), { device: 'auto', gpuLayers: 12 });
  assert.deepEqual(parseDeviceFlags({ device: 'cuda', 'gpu-layers': '0' }, 'auto'), { device: 'cuda', gpuLayers: 0 });
  assert.throws(() => parseDeviceFlags({ 'gpu-layers': '-1' }, 'auto'), (e) => e instanceof UsageError && /0 or more/.test(e.message));
  assert.throws(() => parseDeviceFlags({ 'gpu-layers': '2.5' }, 'auto'), (e) => e instanceof UsageError && /whole number/.test(e.message));
  assert.throws(() => parseDeviceFlags({ device: 'cpu', 'gpu-layers': '4' }, 'auto'), (e) => e instanceof UsageError && /needs --device auto or cuda/.test(e.message));
});

test('an unknown device is a usage error naming the choices', () => {
  assert.throws(() => parseDeviceFlags({ device: 'gpu' }, 'auto'), (e) => e instanceof UsageError && /auto, cpu, cuda, got "gpu"/.test(e.message));
  assert.throws(() => parseDeviceFlags({ device: 'metal' }, 'cpu'), UsageError);
});
