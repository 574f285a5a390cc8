// The token login form (only when a token credential is configured): POST /login with the
// token sets the session cookie (auth.ts). Basic-auth users get the browser's own prompt.
import { html, type Html } from '../html.js';
import { csrfField, href, type PageCtx } from '../layout.js';

export function loginPage(p: Pick<PageCtx, 'base' | 'csrf'>, problem?: string): Html {
  return html`<!doctype html>
<html lang="en" data-base="${p.base}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign in · verk</title>
<link rel="stylesheet" href="${href(p, '/assets/verk-web.css')}"></head>
<body><main id="main" class="login"><h1>verk</h1>
${problem ? html`<p class="warning" role="alert">${problem}</p>` : ''}
<form method="post" action="${href(p, '/login')}">${csrfField(p as PageCtx)}<label for="token">Access token</label> <input id="token" name="token" type="password" autocomplete="current-password" required> <button type="submit">Sign in</button></form>
</main></body></html>
`;
}
