/**
 * Scans of text in other scripts, generated with their ground truth: lines drawn with Debian's fonts-nanum
 * (NanumGothic covers Hangul, Latin and Cyrillic) on a white 300 dpi page by @napi-rs/canvas, the image
 * wrapped as the only content of a one-page PDF, as a scanner would make it. `npm test` installs the font
 * (scripts/lib/test-tools.ts) before any test that calls koreanFont() runs.
 */
import fs from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import { PDFDocument } from 'pdf-lib';
import { NANUM_GOTHIC } from '../../scripts/lib/test-tools.js';
import { characterErrorRate } from './text-metrics.js';

const FAMILY = 'FolioTestNanumGothic';
let registered = false;

/** Registers NanumGothic with the canvas once; fails with the command to run when the font is missing. */
export function koreanFont(): string {
  if (!registered) {
    if (!fs.existsSync(NANUM_GOTHIC)) {
      throw new Error(`${NANUM_GOTHIC} is missing: install Debian's fonts-nanum (sudo apt-get install -y fonts-nanum)`);
    }
    if (GlobalFonts.registerFromPath(NANUM_GOTHIC, FAMILY) === null) throw new Error(`could not load ${NANUM_GOTHIC}`);
    registered = true;
  }
  return FAMILY;
}

/** A scanned page and the text on it. */
export interface ScriptPage {
  pdf: Uint8Array;
  /** The lines drawn, joined by newlines. */
  text: string;
}

/**
 * A one-page, image-only PDF of `lines` drawn at `fontPx` pixels on a 300 dpi letter-width page (8.5 in),
 * black on white, as a PNG. The page is as tall as the lines need.
 */
export async function scanOfLines(lines: string[], fontPx = 50): Promise<ScriptPage> {
  const dpi = 300;
  const width = Math.round(8.5 * dpi);
  const margin = 150;
  const lineHeight = Math.round(fontPx * 1.8);
  const height = margin * 2 + lineHeight * lines.length;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#000000';
  ctx.font = `${fontPx}px ${koreanFont()}`;
  ctx.textBaseline = 'top';
  lines.forEach((line, i) => ctx.fillText(line, margin, margin + i * lineHeight));
  const png = await canvas.encode('png');
  const doc = await PDFDocument.create();
  const image = await doc.embedPng(png);
  const points = (px: number) => (px * 72) / dpi;
  const page = doc.addPage([points(width), points(height)]);
  page.drawImage(image, { x: 0, y: 0, width: points(width), height: points(height) });
  return { pdf: await doc.save(), text: lines.join('\n') };
}

/** Korean prose: the first lines of an everyday notice, Hangul only (with its punctuation and numbers). */
export const KOREAN_LINES = [
  '안녕하세요. 오늘은 날씨가 맑고 따뜻합니다.',
  '우리 회사는 다음 주 월요일에 새 사무실로 이사합니다.',
  '회의는 오후 세 시에 삼층 회의실에서 열립니다.',
  '자세한 내용은 담당자에게 문의해 주시기 바랍니다.',
  '모든 직원은 금요일까지 개인 물품을 정리해 주세요.',
  '감사합니다.',
];

/** Korean with English words and names in it, as Korean business documents often are. */
export const MIXED_LINES = [
  '이번 프로젝트의 이름은 Folio Reader 입니다.',
  '서버는 Temporal 과 PostgreSQL 위에서 동작합니다.',
  'The quarterly report is due on Friday.',
  '보고서는 PDF 파일로 제출해 주세요.',
  'Please send questions to the project office.',
  '문의 사항은 이메일로 보내 주시기 바랍니다.',
];

/** Russian prose, in Cyrillic: the third script. */
export const RUSSIAN_LINES = [
  'Добрый день. Сегодня хорошая погода.',
  'Наша компания переезжает в новый офис.',
  'Собрание начнётся в три часа в большом зале.',
  'Пожалуйста, принесите с собой все документы.',
  'Спасибо за внимание.',
];

/**
 * Character error rate as Korean is counted: every whitespace removed from both texts before comparing,
 * so that a space tesseract inserts or drops between syllable blocks is no error.
 */
export function cerWithoutSpaces(hypothesis: string, reference: string): number {
  return characterErrorRate(hypothesis.replace(/\s+/gu, ''), reference.replace(/\s+/gu, ''));
}
