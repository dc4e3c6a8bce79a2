// Local OpenID Connect provider shaped like Pro Santé Connect (tests and demo only, loopback only).
// Paths and claims follow PSC's Keycloak realm: discovery at /.well-known/wallet-openid-configuration, issuer
// <base>/auth/realms/esante-wallet, scope scope_all, acr eidas1, SubjectNameID / SubjectRefPro / otherIds.
// Usage: node psc-op.mjs CONFIG.json — prints one JSON line {"issuer": ..., "port": ...} once listening.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const REALM = '/auth/realms/esante-wallet';
const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts; // sub -> claims (fictional test users only)
const state = { idTokenTtl: 3600, accessTokenTtl: 600, tokenDelayMs: 0, nextLogin: null, forceAcr: null, ciba: new Map() };

function findSub(hint) {
  if (!hint) return null;
  if (accounts[hint]) return hint;
  for (const [sub, claims] of Object.entries(accounts)) {
    const ids = [claims.SubjectNameID, ...(claims.otherIds || []).map((o) => o.identifiant)];
    if (ids.includes(hint) || ids.includes(`8${hint}`)) return sub;
  }
  return null;
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data ? JSON.parse(data) : {}));
  });
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}${REALM}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'psc-sandbox', use: 'sig', alg: 'RS256' };

  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'scope_all'],
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    claims: {
      acr: null,
      openid: ['sub'],
      scope_all: ['SubjectNameID', 'SubjectRefPro', 'otherIds', 'given_name', 'family_name', 'preferred_username',
        'SubjectOrganization', 'SubjectOrganizationID', 'SubjectRole', 'Secteur_Activite', 'Palier_Authentification',
        'UITVersion', 'PSI_Locale'],
    },
    routes: {
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      userinfo: '/protocol/openid-connect/userinfo',
      end_session: '/protocol/openid-connect/logout',
      jwks: '/protocol/openid-connect/certs',
      introspection: '/protocol/openid-connect/token/introspect',
      revocation: '/protocol/openid-connect/revoke',
      backchannel_authentication: '/protocol/openid-connect/ext/ciba/auth',
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      ciba: {
        enabled: true,
        deliveryModes: ['poll'],
        async processLoginHint(ctx, loginHint) {
          const sub = findSub(loginHint);
          if (!sub) throw new errors.UnknownUserId('unknown login_hint');
          return sub;
        },
        async validateRequestContext() {},
        async verifyUserCode() {},
        async triggerAuthenticationDevice(ctx, request, account) {
          // The pharmacist would approve on the e-CPS app: the test endpoint /__test__/ciba/approve does it.
          state.ciba.set(request.jti, { accountId: account.accountId, clientId: request.clientId });
        },
      },
    },
    pkce: { required: () => true },
    ttl: {
      IdToken: () => state.idTokenTtl,
      AccessToken: () => state.accessTokenTtl,
      RefreshToken: 86400,
      Session: 86400,
      Grant: 86400,
      Interaction: 600,
      AuthorizationCode: 60,
      BackchannelAuthenticationRequest: 300,
    },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    async findAccount(ctx, sub) {
      if (!accounts[sub]) return undefined;
      return { accountId: sub, async claims() { return { sub, ...accounts[sub] }; } };
    },
    async loadExistingGrant(ctx) {
      // First-party client of the test realm: consent is implied, as for PSC's registered services.
      const { client, session } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      if (grantId) {
        const found = await provider.Grant.find(grantId);
        if (found) return found;
      }
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid offline_access scope_all');
      await grant.save();
      session.grantIdFor(client.clientId, grant.jti);
      return grant;
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.proxy = false;
  const callback = provider.callback();

  async function interaction(req, res) {
    // Automated sign-in of a fictional user: the login_hint of the request, else the one set by the test.
    const details = await provider.interactionDetails(req, res);
    const sub = findSub(details.params.login_hint) || findSub(state.nextLogin) || config.default_account;
    const acr = state.forceAcr || (details.params.acr_values || 'eidas1').split(' ')[0];
    await provider.interactionFinished(req, res, {
      login: { accountId: sub, acr, amr: ['mfa'] },
    }, { mergeWithLastSubmission: false });
  }

  async function testEndpoint(req, res, path) {
    const body = req.method === 'POST' ? await readBody(req) : {};
    if (path === '/__test__/ttl') {
      if (body.id_token != null) state.idTokenTtl = body.id_token;
      if (body.access_token != null) state.accessTokenTtl = body.access_token;
      if (body.token_delay_ms != null) state.tokenDelayMs = body.token_delay_ms;
      return send(res, 200, { id_token: state.idTokenTtl, access_token: state.accessTokenTtl });
    }
    if (path === '/__test__/next-login') {
      state.nextLogin = body.login_hint || null;
      state.forceAcr = body.acr || null;
      return send(res, 200, { login_hint: state.nextLogin, acr: state.forceAcr });
    }
    if (path === '/__test__/ciba/pending') {
      return send(res, 200, [...state.ciba.entries()].map(([id, v]) => ({ auth_req_id: id, ...v })));
    }
    if (path === '/__test__/ciba/approve') {
      const entries = [...state.ciba.entries()].filter(([id, v]) => !body.login_hint
        || v.accountId === findSub(body.login_hint));
      if (!entries.length) return send(res, 404, { error: 'no pending request' });
      const [id, pending] = entries[entries.length - 1];
      state.ciba.delete(id);
      if (body.deny) {
        await provider.backchannelResult(id, new errors.AccessDenied('refused on the authentication device'));
        return send(res, 200, { auth_req_id: id, denied: true });
      }
      const grant = new provider.Grant({ clientId: pending.clientId, accountId: pending.accountId });
      grant.addOIDCScope('openid offline_access scope_all');
      await grant.save();
      await provider.backchannelResult(id, grant, { acr: 'eidas1', amr: ['mfa'], authTime: Math.floor(Date.now() / 1000) });
      return send(res, 200, { auth_req_id: id, approved: true });
    }
    return send(res, 404, { error: 'unknown test endpoint' });
  }

  server.on('request', async (req, res) => {
    try {
      const path = req.url.split('?')[0];
      if (path.startsWith('/__test__/')) return await testEndpoint(req, res, path);
      if (path.startsWith('/interaction/')) return await interaction(req, res);
      if (!req.url.startsWith(REALM)) return send(res, 404, { error: 'not found' });
      let inner = req.url.slice(REALM.length) || '/';
      if (inner.startsWith('/.well-known/wallet-openid-configuration')) {
        inner = inner.replace('/.well-known/wallet-openid-configuration', '/.well-known/openid-configuration');
      }
      req.originalUrl = REALM + inner;
      req.url = inner;
      if (state.tokenDelayMs && inner.startsWith('/protocol/openid-connect/token')) {
        // A slow network: the answer (and its ID token) reaches the client late.
        const end = res.end.bind(res);
        res.end = (...args) => { setTimeout(() => end(...args), state.tokenDelayMs); return res; };
      }
      return callback(req, res);
    } catch (err) {
      return send(res, 500, { error: 'server_error', error_description: String(err) });
    }
  });
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
