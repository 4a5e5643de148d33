/** The pure parts of priority and the Temporal UI: the range, the registration commands, the dev server's flags. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_PRIORITY,
  FolioSearchAttributes,
  isPriority,
  searchAttributeCreateCommand,
} from '../../core/contracts.js';
import { searchAttributesOf } from '../../core/workflow-client.js';
import { devServerFolioArgs } from '../../scripts/lib/temporal-dev-server.js';

describe('priority and search attributes', () => {
  it('takes the whole numbers 1 to 5 as priorities, 3 by default', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 2.5, NaN, '3'].map(isPriority), [
      false,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    assert.equal(DEFAULT_PRIORITY, 3);
  });

  it('names the commands that register missing search attributes, one per type', () => {
    assert.equal(
      searchAttributeCreateCommand(['FolioStatus', 'FolioPriority', 'FolioBatchId'], 'default'),
      'temporal operator search-attribute create --namespace default --name FolioStatus --name FolioBatchId --type Keyword' +
        ' && temporal operator search-attribute create --namespace default --name FolioPriority --type Int',
    );
    assert.equal(searchAttributeCreateCommand(['FolioPageCount'], 'ns').includes('--type Keyword'), false);
  });

  it('starts a workflow with only the search attributes the cluster has, and only those with a value', () => {
    const job = {
      id: 'j',
      storageKey: 'k',
      options: { ocrMode: 'auto' as const, languages: ['eng'] },
      passwordSealed: null,
      filename: 'scan.pdf',
      apiKeyId: null,
      priority: 1,
    };
    const all = Object.values(FolioSearchAttributes).map((a) => a.name);
    const names = (pairs: ReturnType<typeof searchAttributesOf>) =>
      Object.fromEntries(pairs.map((p) => [p.key.name, p.value]));
    assert.deepEqual(names(searchAttributesOf(job, all)), {
      FolioStatus: 'queued',
      FolioPageCount: 0,
      FolioPriority: 1,
      FolioFileName: 'scan.pdf',
    });
    assert.deepEqual(names(searchAttributesOf(job, ['FolioPriority'])), { FolioPriority: 1 });
    assert.deepEqual(searchAttributesOf(job), []);
  });

  it('registers every search attribute on the dev server and turns on the matcher that honours priority', () => {
    const args = devServerFolioArgs();
    assert.deepEqual(args.slice(0, 2), ['--dynamic-config-value', 'matching.useNewMatcher=true']);
    for (const a of Object.values(FolioSearchAttributes)) {
      assert.ok(args.includes(`${a.name}=${a.type === 'INT' ? 'Int' : 'Keyword'}`), a.name);
    }
  });
});
