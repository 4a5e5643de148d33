/**
 * Development only: creates the previous service's `legacy_jobs` table in an embedded legacy database and
 * fills it with a few jobs, so the panel shows old and new jobs side by side. Production never runs this;
 * there the legacy DB is the real one. Usage: node dist/scripts/legacy-fixture.js [LEGACY_DATABASE_URL]
 */
import { pathToFileURL } from 'node:url';
import { Sequelize } from 'sequelize';

/** The table as the previous service created it (their schema, reproduced for development). */
const createTable = `
  CREATE TABLE IF NOT EXISTS legacy_jobs (
    job_id varchar(64) PRIMARY KEY,
    filename text,
    status varchar(32) NOT NULL,
    current_step varchar(64),
    progress_percentage integer NOT NULL DEFAULT 0,
    error_message text,
    content_id varchar(128),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`;

const rows: [string, string, string, string | null, number, string | null, string | null][] = [
  ['legacy-0001', 'invoice-2019-03.pdf', 'completed', 'done', 100, null, 'cnt-7f3a'],
  ['legacy-0002', 'contract-scan.pdf', 'completed', 'done', 100, null, 'cnt-91bc'],
  ['legacy-0003', 'brochure.pdf', 'failed', 'ocr', 40, 'tesseract exited with code 1', null],
  ['legacy-0004', 'annual-report.pdf', 'processing', 'ocr', 65, null, null],
  ['legacy-0005', 'letter.pdf', 'queued', 'upload', 0, null, null],
];

/** Creates legacy_jobs when missing and inserts the sample rows once. Returns whether the table was new. */
export async function createLegacyFixture(url: string): Promise<boolean> {
  const db = new Sequelize(url, { dialect: 'postgres', logging: false });
  try {
    const [found] = await db.query(`SELECT to_regclass('public.legacy_jobs') AS t`);
    const exists = (found[0] as { t: string | null }).t !== null;
    if (exists) return false;
    await db.query(createTable);
    for (const [i, r] of rows.entries()) {
      await db.query(
        `INSERT INTO legacy_jobs (job_id, filename, status, current_step, progress_percentage, error_message,
           content_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, now() - make_interval(days => ?), now() - make_interval(days => ?))
         ON CONFLICT (job_id) DO NOTHING`,
        { replacements: [...r, 400 - i * 30, 400 - i * 30] },
      );
    }
    return true;
  } finally {
    await db.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.argv[2] ?? process.env.LEGACY_DATABASE_URL;
  if (!url) {
    console.error('usage: legacy-fixture.js <LEGACY_DATABASE_URL> (or set LEGACY_DATABASE_URL)');
    process.exit(2);
  }
  const created = await createLegacyFixture(url);
  console.log(created ? 'legacy_jobs created and filled' : 'legacy_jobs already exists; left as it is');
}
