import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

/** Bundles workflows/ once at build time so workers start without running webpack. */
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { code } = await bundleWorkflowCode({ workflowsPath: path.join(dist, 'workflows/index.js') });
await fs.writeFile(path.join(dist, 'workflow-bundle.js'), code);
console.log(`workflow bundle: ${(code.length / 1024).toFixed(0)} KiB`);
