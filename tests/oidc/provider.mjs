// TEST FIXTURE ONLY: a real OpenID Provider (the certified `oidc-provider`
// package) that the Decision Forum test suite starts as a child process, see
// tests/oidcprovider.py and README.md. It keeps everything in memory, makes a
// new signing key at every start and exposes unauthenticated control
// endpoints under /__test/. Never run it anywhere but a test.
//
// Usage: node tests/oidc/provider.mjs <config.json>
// Prints exactly one line "READY http://127.0.0.1:<port>" on stdout once it
// listens; exits cleanly on SIGTERM / SIGINT.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';
import {
  decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT,
} from 'jose';

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node provider.mjs <config.json>\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const kid = config.kid || 'key-1';

// Mutable test state, changed through /__test/*.
let accounts = config.accounts || {};
let tamperMode = null;
const TAMPER_MODES = new Set(['iss', 'aud', 'expired', 'nonce', 'signature', 'alg-none']);

// A fresh RS256 signing key at every start (key rotation = restart with another kid).
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };

const escapeHtml = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => ({
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
}[c]));

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function loginPage({ uid, clientId, login = '', error = '' }) {
  return `<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Sign-in</title></head>
<body>
  <h1>Sign-in</h1>
  <p>Test OpenID Provider, client <code>${escapeHtml(clientId)}</code></p>
  ${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
  <form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
    <label>Account <input type="text" name="login" value="${escapeHtml(login)}" required autofocus></label>
    <label>Password <input type="password" name="password"></label>
    <button type="submit">Sign-in</button>
  </form>
  <p><a href="/interaction/${escapeHtml(uid)}/abort">Cancel</a></p>
</body>
</html>`;
}

function errorPage(status, message) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Error</title></head>
<body><h1>oops! something went wrong</h1><pre>error: ${escapeHtml(status)}</pre><pre>error_description: ${escapeHtml(message)}</pre></body></html>`;
}

function accountFor(accountId) {
  if (typeof accountId !== 'string' || !Object.hasOwn(accounts, accountId)) {
    return undefined;
  }
  return {
    accountId,
    // Returns every claim; oidc-provider filters them by granted scopes/claims.
    async claims() {
      const person = accounts[accountId] || {};
      return { ...person, sub: accountId };
    },
  };
}

const listenPort = Number(config.port || 0);
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(listenPort, '127.0.0.1', () => {
    server.off('error', reject);
    resolve();
  });
});
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const clients = (config.clients || []).map((client) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  ...client,
}));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  findAccount: (ctx, sub) => accountFor(sub),
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  // Put the scope-derived claims in the ID token too (not only in userinfo).
  conformIdTokenClaims: false,
  cookies: {
    keys: [randomBytes(32).toString('base64url')],
  },
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false }, // it accepts any login; ours below checks accounts
    rpInitiatedLogout: { enabled: true },
    userinfo: { enabled: true },
  },
  interactions: {
    url: (ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  // Auto-consent: every requested OIDC scope and claim is granted, no consent page.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const accountId = oidc.session.accountId;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    if (!grant || grant.accountId !== accountId || grant.clientId !== oidc.client.clientId) {
      grant = new oidc.provider.Grant({ accountId, clientId: oidc.client.clientId });
    }
    const scopes = [...oidc.requestParamOIDCScopes];
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    const claims = [...oidc.requestParamClaims];
    if (claims.length) grant.addOIDCClaims(claims);
    await grant.save();
    return grant;
  },
});

provider.on('server_error', (ctx, err) => {
  process.stderr.write(`oidc-provider server_error on ${ctx.method} ${ctx.path}: ${err?.stack || err}\n`);
});

async function tamperIdToken(idToken, mode) {
  const header = decodeProtectedHeader(idToken);
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const sign = (payload, key = privateKey) => new SignJWT(payload)
    .setProtectedHeader({ ...header, alg: 'RS256', kid: header.kid || kid })
    .sign(key);
  switch (mode) {
    case 'iss': return sign({ ...claims, iss: 'http://evil.example' });
    case 'aud': return sign({ ...claims, aud: 'someone-else' });
    case 'expired': {
      const iat = now - 2 * 60 * 60;
      return sign({ ...claims, iat, exp: iat + 5 * 60, auth_time: claims.auth_time ? iat : undefined });
    }
    case 'nonce': return sign({ ...claims, nonce: `tampered-${randomBytes(8).toString('hex')}` });
    case 'signature': {
      const { privateKey: otherKey } = await generateKeyPair('RS256', { extractable: true });
      return sign(claims, otherKey);
    }
    case 'alg-none': {
      const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: header.kid || kid })).toString('base64url');
      return `${noneHeader}.${idToken.split('.')[1]}.`;
    }
    default: return idToken;
  }
}

function sendJson(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.set('Cache-Control', 'no-store');
  ctx.body = body;
}

// Test-only control endpoints, the interaction (login) routes and the ID token tampering.
provider.use(async (ctx, next) => {
  const { path, method } = ctx;

  if (path.startsWith('/__test/')) {
    if (method !== 'POST') return sendJson(ctx, 405, { error: 'method_not_allowed' });
    let body;
    try {
      body = JSON.parse((await readBody(ctx.req)) || 'null');
    } catch {
      return sendJson(ctx, 400, { error: 'invalid_json' });
    }
    if (path === '/__test/accounts') {
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        return sendJson(ctx, 400, { error: 'expected a JSON object of accounts' });
      }
      accounts = body;
      return sendJson(ctx, 200, { accounts: Object.keys(accounts) });
    }
    if (path === '/__test/tamper') {
      const mode = body?.mode ?? null;
      if (mode !== null && !TAMPER_MODES.has(mode)) {
        return sendJson(ctx, 400, { error: `unknown tamper mode ${JSON.stringify(mode)}`, modes: [...TAMPER_MODES] });
      }
      tamperMode = mode;
      return sendJson(ctx, 200, { mode: tamperMode });
    }
    return sendJson(ctx, 404, { error: 'not_found' });
  }

  const interaction = path.match(/^\/interaction\/([^/]+)(\/login|\/abort)?$/);
  if (interaction) {
    ctx.set('Cache-Control', 'no-store');
    const [, uid, action] = interaction;
    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== uid) throw new Error('interaction uid mismatch');
      const clientId = details.params.client_id;

      if (action === '/abort' && method === 'GET') {
        const to = await provider.interactionResult(ctx.req, ctx.res, {
          error: 'access_denied', error_description: 'End-User aborted interaction',
        }, { mergeWithLastSubmission: false });
        ctx.status = 303;
        return ctx.redirect(to);
      }

      if (action === '/login' && method === 'POST') {
        const form = new URLSearchParams(await readBody(ctx.req));
        const login = (form.get('login') || '').trim();
        if (!accountFor(login)) {
          ctx.status = 200;
          ctx.type = 'html';
          ctx.body = loginPage({ uid, clientId, login, error: `Unknown account: ${login}` });
          return undefined;
        }
        const to = await provider.interactionResult(ctx.req, ctx.res, {
          login: { accountId: login },
        }, { mergeWithLastSubmission: false });
        ctx.status = 303;
        return ctx.redirect(to);
      }

      if (!action && method === 'GET') {
        if (details.prompt.name === 'login') {
          ctx.type = 'html';
          ctx.body = loginPage({ uid, clientId, login: details.params.login_hint || '' });
          return undefined;
        }
        if (details.prompt.name === 'consent') {
          // Normally unreachable (loadExistingGrant grants everything); grant anyway.
          const grant = details.grantId
            ? await provider.Grant.find(details.grantId)
            : new provider.Grant({ accountId: details.session.accountId, clientId });
          const { missingOIDCScope, missingOIDCClaims } = details.prompt.details;
          if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
          if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
          const to = await provider.interactionResult(ctx.req, ctx.res, {
            consent: { grantId: await grant.save() },
          }, { mergeWithLastSubmission: true });
          ctx.status = 303;
          return ctx.redirect(to);
        }
      }
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = errorPage('invalid_request', `unsupported interaction ${method} ${path}`);
      return undefined;
    } catch (err) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = errorPage(err?.name || 'error', err?.message || String(err));
      return undefined;
    }
  }

  await next();

  if (tamperMode && path === '/token' && method === 'POST' && ctx.status === 200
      && ctx.body && typeof ctx.body === 'object' && typeof ctx.body.id_token === 'string') {
    ctx.body = { ...ctx.body, id_token: await tamperIdToken(ctx.body.id_token, tamperMode) };
  }
  return undefined;
});

server.on('request', provider.callback());

let closing = false;
function shutdown() {
  if (closing) return;
  closing = true;
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

process.stdout.write(`READY ${issuer}\n`);
