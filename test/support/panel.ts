import pg from 'pg';
import { chromium, type Browser } from 'playwright-core';
import { chromiumPath } from '../../scripts/lib/chromium.js';
import { harnessEnv } from './stack.js';

/**
 * Signs in to /admin with fetch. When it worked (302): the session cookie ("name=value") and the
 * headers the panel's own frontend sends with its API calls (both cookies and the X-XSRF-TOKEN header
 * it copies from the XSRF-TOKEN cookie that the panel's pages set).
 */
export async function signIn(
  url: string,
  email: string,
  password: string,
): Promise<{ status: number; cookie?: string; headers?: Record<string, string> }> {
  const res = await fetch(`${url}/admin/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, password }),
    redirect: 'manual',
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  await res.arrayBuffer();
  if (res.status !== 302 || !cookie) return { status: res.status };
  const home = await fetch(`${url}/admin`, { headers: { cookie }, redirect: 'manual' });
  await home.arrayBuffer();
  const xsrf = home.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .find((c) => c.startsWith('XSRF-TOKEN='));
  if (!xsrf) throw new Error(`the panel set no XSRF-TOKEN cookie (status ${home.status})`);
  const token = decodeURIComponent(xsrf.slice('XSRF-TOKEN='.length));
  return { status: res.status, cookie, headers: { cookie: `${cookie}; ${xsrf}`, 'x-xsrf-token': token } };
}

/** Forgets every counted panel sign-in attempt (the limit is shared by all API processes of the test DB). */
export async function clearSignInLimits(): Promise<void> {
  const client = new pg.Client({ connectionString: harnessEnv().APP_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`DELETE FROM rate_limits WHERE key LIKE 'admin-login:%'`);
  } finally {
    await client.end();
  }
}

/** Debian's Chromium, headless, through playwright-core: never a downloaded browser, no background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
