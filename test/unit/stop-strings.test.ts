import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopStringFilter } from '../../electron/engine/stop-strings';

test('text is held back while it may begin a stop string, then released', () => {
  const f = new StopStringFilter(['<|im_end|>']);
  assert.equal(f.push('Hello <'), 'Hello ');
  assert.equal(f.push('|im'), '');
  assert.equal(f.push(' nope'), '<|im nope');
  assert.equal(f.stopped, false);
  assert.equal(f.flush(), '');
  assert.equal(f.text, 'Hello <|im nope');
});

test('a stop string ends the text before it, even split over pieces', () => {
  const f = new StopStringFilter(['STOP', '<|im_end|>']);
  assert.equal(f.push('abc <|im_'), 'abc ');
  assert.equal(f.push('end|> more'), '');
  assert.equal(f.stopped, true);
  assert.equal(f.push('ignored'), '');
  assert.equal(f.text, 'abc ');
});

test('the earliest stop string wins and flush releases held text', () => {
  const f = new StopStringFilter(['xyz', 'b']);
  assert.equal(f.push('aaxy'), 'aa');
  assert.equal(f.flush(), 'xy');
  const g = new StopStringFilter(['cd', 'b']);
  assert.equal(g.push('abcd'), 'a');
  assert.equal(g.text, 'a');
});

test('no stop strings: everything passes straight through', () => {
  const f = new StopStringFilter([]);
  assert.equal(f.push('a<'), 'a<');
  assert.equal(f.flush('z'), 'z');
  assert.equal(f.text, 'a<z');
});
