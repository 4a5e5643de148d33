import { Inject, Injectable } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { AbstractLoader, type AdminModuleOptions } from '@adminjs/nestjs';
import type AdminJS from 'adminjs';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';

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
 * Mounts AdminJS with a helmet of its own and a login rate limit in front of it.
 * @adminjs/nestjs's own loader moves the panel to the front of the Express stack, ahead of the API's
 * global helmet; this loader does the same (AdminJS parses its own bodies) but wraps the panel's router
 * in the panel's CSP, so /admin never goes out without security headers.
 */
@Injectable()
export class PanelLoader extends AbstractLoader {
  constructor(@Inject(CONFIG) private readonly config: Config) {
    super();
  }

  async register(admin: AdminJS, httpAdapter: AbstractHttpAdapter, options: AdminModuleOptions): Promise<void> {
    const app = httpAdapter.getInstance<Express>();
    const { default: AdminJSExpress } = await import('@adminjs/express');
    if (!options.auth) throw new Error('The admin panel is always mounted with authentication.');

    const predefined = express.Router();
    const loginLimit = rateLimit({
      windowMs: this.config.admin.loginWindowMs,
      limit: this.config.admin.loginMaxAttempts,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      // A successful sign-in redirects; only failed attempts count against the limit.
      skipSuccessfulRequests: true,
      requestWasSuccessful: (_req, res) => res.statusCode === 302,
      handler: (_req, res) => {
        void admin
          .renderLogin({ action: admin.options.loginPath, errorMessage: 'tooManyRequests' })
          .then((page) => res.status(429).type('html').send(page));
      },
    });
    predefined.post('/login', loginLimit);

    const router = AdminJSExpress.buildAuthenticatedRouter(
      admin,
      options.auth,
      predefined,
      options.sessionOptions,
      options.formidableOptions,
    );
    app.use(admin.options.rootPath, function admin(req: Request, res: Response, next: NextFunction) {
      withoutOffSiteFonts(res);
      panelHelmet(req, res, (err?: unknown) => (err ? next(err) : router(req, res, next)));
    });
    moveToFront(app);
  }
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
