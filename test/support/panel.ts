import { chromium, type Browser } from 'playwright-core';

/** Signs in to /admin with fetch; returns the session cookie ("name=value") when it worked (302). */
export async function signIn(
  url: string,
  email: string,
  password: string,
): Promise<{ status: number; cookie?: string }> {
  const res = await fetch(`${url}/admin/login`, {
    method: 'POST',
    body: new URLSearchParams({ email, password }),
    redirect: 'manual',
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0];
  await res.arrayBuffer();
  return { status: res.status, cookie: res.status === 302 ? cookie : undefined };
}

/** Debian's Chromium, headless, through playwright-core: never a downloaded browser, no background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
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
