import { Inject, Injectable } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { AbstractLoader, type AdminModuleOptions } from '@adminjs/nestjs';
import type AdminJS from 'adminjs';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { RateLimits } from '../rate-limit/rate-limits.js';

/** The panel's content-security policy: AdminJS needs inline scripts and styles, and nothing off-site. */
export const panelHelmet = helmet({
  contentSecurityPolicy: {
    useDefaults: true,
    directives: {
      'default-src': ["'self'"],
      'script-src': ["'self'", "'unsafe-inline'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'img-src': ["'self'", 'data:', 'blob:'],
      'font-src': ["'self'", 'data:'],
      'connect-src': ["'self'"],
      'upgrade-insecure-requests': null,
    },
  },
});

interface Layer {
  name: string;
}

/**
 * The cookie and header of the panel's CSRF token. AdminJS's frontend calls its API through axios, which
 * copies a same-origin `XSRF-TOKEN` cookie into an `X-XSRF-TOKEN` header on every request by default; a
 * cross-site page can neither read the cookie nor set the header, even on a top-level GET navigation.
 */
export const CSRF_COOKIE = 'XSRF-TOKEN';
export const CSRF_HEADER = 'x-xsrf-token';

/**
 * Mounts AdminJS with a helmet of its own, CSRF protection and a login rate limit in front of it.
 * @adminjs/nestjs's own loader moves the panel to the front of the Express stack, ahead of the API's
 * global helmet; this loader does the same (AdminJS parses its own bodies) but wraps the panel's router
 * in the panel's CSP, so /admin never goes out without security headers.
 *
 * CSRF: every request to the panel's API (`/admin/api/...`, where every action runs, including record
 * actions such as cancel, retry, revoke and trigger that AdminJS sends as GET) must carry the
 * double-submit token (csrf-csrf), an HMAC bound to the session cookie; pages set the token cookie.
 * Form posts (sign-in) from another site are refused by their Sec-Fetch-Site header.
 */
@Injectable()
export class PanelLoader extends AbstractLoader {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly limits: RateLimits,
  ) {
    super();
  }

  async register(admin: AdminJS, httpAdapter: AbstractHttpAdapter, options: AdminModuleOptions): Promise<void> {
    const app = httpAdapter.getInstance<Express>();
    const { default: AdminJSExpress } = await import('@adminjs/express');
    if (!options.auth) throw new Error('The admin panel is always mounted with authentication.');

    const predefined = express.Router();
    // Counted in the app DB, so every API replica shares one limit; a successful sign-in (302) is refunded.
    predefined.post('/login', (req: Request, res: Response, next: NextFunction) => {
      const address = req.ip ?? 'unknown';
      this.limits
        .consumeLogin(address)
        .then(async (waitSeconds) => {
          if (waitSeconds === null) {
            res.on('finish', () => {
              if (res.statusCode === 302) void this.limits.refundLogin(address);
            });
            return next();
          }
          const page = await admin.renderLogin({ action: admin.options.loginPath, errorMessage: 'tooManyRequests' });
          res.setHeader('Retry-After', String(waitSeconds));
          res.status(429).type('html').send(page);
        })
        .catch(next);
    });

    const router = AdminJSExpress.buildAuthenticatedRouter(
      admin,
      options.auth,
      predefined,
      options.sessionOptions,
      options.formidableOptions,
    );
    const csrf = panelCsrf(options.auth.cookieName ?? 'adminjs', options.auth.cookiePassword, {
      rootPath: admin.options.rootPath,
      secure: this.config.admin.cookieSecure,
    });
    app.use(admin.options.rootPath, function admin(req: Request, res: Response, next: NextFunction) {
      withoutOffSiteFonts(res);
      panelHelmet(req, res, (err?: unknown) => {
        if (err) return next(err);
        csrf(req, res, (csrfErr?: unknown) => (csrfErr ? next(csrfErr) : router(req, res, next)));
      });
    });
    moveToFront(app);
  }
}

/** The panel's CSRF middleware: checks the token on its API, issues it with its pages. */
function panelCsrf(
  sessionCookie: string,
  secret: string,
  cookie: { rootPath: string; secure: boolean },
): (req: Request, res: Response, next: NextFunction) => void {
  const parseCookies = cookieParser();
  const { generateCsrfToken, validateRequest } = doubleCsrf({
    getSecret: () => secret,
    // Bound to the session cookie (present before the session middleware runs): a token is worth
    // nothing with another session.
    getSessionIdentifier: (req) => {
      const value = (req.cookies as Record<string, unknown>)[sessionCookie];
      return typeof value === 'string' ? value : '';
    },
    cookieName: CSRF_COOKIE,
    // Readable by the panel's own script (axios copies it into the header); never sent cross-site.
    cookieOptions: { httpOnly: false, sameSite: 'strict', secure: cookie.secure, path: cookie.rootPath },
    getCsrfTokenFromRequest: (req) => req.headers[CSRF_HEADER] as string | undefined,
  });
  const refuse = (res: Response, message: string) => res.status(403).json({ error: { code: 'CSRF_REFUSED', message } });

  return (req, res, next) => {
    parseCookies(req, res, () => {
      const site = req.headers['sec-fetch-site'];
      if (req.method !== 'GET' && req.method !== 'HEAD' && (site === 'cross-site' || site === 'same-site')) {
        return refuse(res, 'The panel accepts forms only from its own pages.');
      }
      if (req.path.startsWith('/api/')) {
        if (!validateRequest(req)) {
          return refuse(res, `Missing or invalid ${CSRF_HEADER} header: reload the panel and try again.`);
        }
      } else if (req.method === 'GET' && !req.path.startsWith('/frontend/')) {
        const cookies = req.cookies as Record<string, unknown>;
        if (cookies[sessionCookie]) generateCsrfToken(req, res);
      }
      next();
    });
  };
}

const googleFontsLink = /<link[^>]+fonts\.googleapis\.com[^>]*>/g;

/**
 * AdminJS's page templates hard-code a Google Fonts stylesheet. The CSP would block it anyway; removing
 * the tag means the browser does not even try, so the panel makes no off-site request (system fonts).
 */
function withoutOffSiteFonts(res: Response): void {
  const send = res.send.bind(res);
  res.send = (body?: unknown) => send(typeof body === 'string' ? body.replace(googleFontsLink, '') : body);
}

/** Puts the panel's layer right after Express's own init, before the API's body parsers and helmet. */
function moveToFront(app: Express): void {
  const stack = (app as unknown as { router?: { stack: Layer[] } }).router?.stack;
  if (!stack) throw new Error('Express router stack not found: cannot mount the admin panel in front.');
  const index = stack.findIndex((l) => l.name === 'admin');
  const [panel] = stack.splice(index, 1);
  const init = stack.findIndex((l) => l.name === 'expressInit');
  stack.splice(init + 1, 0, panel!);
}
