/**
 * The page pipeline's decisions about orientation (activities/page.ts): an upright page is read once; a
 * weak or sideways read asks for detection and a second read turned, kept only when it is better.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OcrEngine, OcrResult } from '../../activities/adapters/types.js';
import { betterRead, lineAngle, needsOrientation, WEAK_READ_CONFIDENCE } from '../../activities/page.js';
import type { Word } from '../../core/contracts.js';

/** Words along lines at `degrees`, `perLine` a line, boxes 40 × 12 px. */
function linesAt(degrees: number, lines = 5, perLine = 6, confidence = 95): Word[] {
  const slope = Math.tan((degrees * Math.PI) / 180);
  const words: Word[] = [];
  for (let line = 0; line < lines; line++) {
    for (let i = 0; i < perLine; i++) {
      const x = 100 + i * 60;
      const y = 200 + line * 40 + x * slope;
      words.push({ text: `w${line}${i}`, bbox: { x0: x - 20, y0: y - 12, x1: x + 20, y1: y }, confidence, line });
    }
  }
  return words;
}

function read(words: Word[]): OcrResult {
  const confidence = words.length ? words.reduce((s, w) => s + w.confidence, 0) / words.length : 0;
  return { text: words.map((w) => w.text).join(' '), confidence, words };
}

const detecting = { orientation: { minConfidence: 7 }, dpi: 300, renderMaxPixels: 5e7 };
const withDetection = {
  detectOrientation: () => Promise.resolve({ turn: 0 as const, confidence: 0 }),
} as unknown as OcrEngine;
const withoutDetection = {} as OcrEngine;

describe('orientation decisions of the page pipeline', () => {
  it('measures the angle of the text lines, ignoring lines of fewer than three words', () => {
    assert.ok(Math.abs(lineAngle(linesAt(0))) < 0.01);
    assert.ok(Math.abs(lineAngle(linesAt(2)) - 2) < 0.01);
    assert.ok(Math.abs(lineAngle(linesAt(-3)) + 3) < 0.01);
    assert.equal(lineAngle(linesAt(10, 4, 2)), 0, 'two-word lines say nothing');
    assert.equal(lineAngle([]), 0);
    // Words without a line (a text layer's) are not OCR lines.
    assert.equal(lineAngle(linesAt(5).map(({ line: _line, ...w }) => w)), 0);
  });

  it('reads an upright, confident page once; asks about a weak, empty or sideways read', () => {
    assert.equal(needsOrientation(detecting, withDetection, read(linesAt(0.3))), false);
    assert.equal(needsOrientation(detecting, withDetection, read(linesAt(0, 5, 6, WEAK_READ_CONFIDENCE - 20))), true);
    assert.equal(needsOrientation(detecting, withDetection, read([])), true);
    assert.equal(needsOrientation(detecting, withDetection, read(linesAt(80))), true);
    assert.equal(needsOrientation(detecting, withDetection, read(linesAt(-88))), true);
  });

  it('never asks when detection is off or the engine has none', () => {
    const weak = read(linesAt(0, 5, 6, 20));
    assert.equal(needsOrientation({ ...detecting, orientation: undefined }, withDetection, weak), false);
    assert.equal(needsOrientation(detecting, withoutDetection, weak), false);
  });

  it('keeps a second read only when it is more confident', () => {
    const weak = read(linesAt(0, 5, 6, 40));
    const strong = read(linesAt(0, 5, 6, 95));
    assert.equal(betterRead(weak, strong), 'second');
    assert.equal(betterRead(strong, weak), 'first');
    assert.equal(betterRead(strong, strong), 'first');
  });
});
