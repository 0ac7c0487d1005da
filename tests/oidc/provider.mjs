// A real OpenID Connect provider (panva/oidc-provider) on 127.0.0.1, for the sign-in tests.
//
// The test writes everything about it in one JSON file, so the accounts and the client are
// read where the assertions are: node provider.mjs config.json
//   { "port": 0, "client": { "client_id", "client_secret", "redirect_uri" },
//     "accounts": [ { "email", "password", "name", "email_verified" } ] }
// It serves plain http (127.0.0.1 only), keeps everything in memory, and prints
// `listening <issuer>` once it answers. Its own login page checks the password, so a
// browser signs in here exactly as it would at a company's identity provider.
import { readFileSync } from 'node:fs';
import http from 'node:http';

import Provider, { interactionPolicy } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const accounts = new Map(config.accounts.map((a) => [a.email.toLowerCase(), a]));

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8">
<title>${esc(title)}</title><style>body{font-family:sans-serif;max-width:22rem;margin:3rem auto}
input,button{display:block;width:100%;margin:.5rem 0;padding:.5rem;font-size:1rem}
.error{color:#b91c1c}</style></head><body><h1>${esc(title)}</h1>${body}</body></html>`;

// Streamlit asks for prompt=select_account; a provider that does not list it refuses the
// whole request. Here it is answered by the same login form, like choosing an account.
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

const server = http.createServer();
server.listen(config.port ?? 0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client.client_id,
      client_secret: config.client.client_secret,
      redirect_uris: [config.client.redirect_uri],
      post_logout_redirect_uris: [config.client.redirect_uri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Put the scope's claims in the ID token, as Google and Entra do: Streamlit reads the
    // user from the ID token alone and never calls the userinfo endpoint.
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, email: account.email, name: account.name,
                   email_verified: account.email_verified ?? true };
        },
      };
    },
    // A first-party client: no consent screen, the grant covers what it asks for.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(ctx.oidc.params.scope);
      await grant.save();
      return grant;
    },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = page('Sign out', `${form}<p>Sign out of ${esc(ctx.host)}?</p>
<button type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Provider error', `<pre class="error">${esc(JSON.stringify(out))}</pre>`);
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('server_error', err));

  const loginForm = (uid, error = '') => page('Company sign-in', `
<form method="post" action="/interaction/${esc(uid)}/login">
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<label>Email <input name="email" type="email" autofocus required></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Continue</button></form>`);

  const readForm = (req) => new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; if (body.length > 10000) req.destroy(); });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });

  const callback = provider.callback();
  server.on('request', async (req, res) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url.split('?')[0]);
    if (!match) { callback(req, res); return; }
    try {
      const details = await provider.interactionDetails(req, res);
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      if (!match[2]) { res.end(loginForm(details.uid)); return; }
      const form = await readForm(req);
      const email = (form.get('email') || '').trim().toLowerCase();
      const account = accounts.get(email);
      if (!account || account.password !== form.get('password')) {
        res.statusCode = 401;
        res.end(loginForm(details.uid, 'Wrong email or password.'));
        return;
      }
      await provider.interactionFinished(req, res, {
        login: { accountId: email }, select_account: {} }, { mergeWithLastSubmission: false });
    } catch (err) {
      res.statusCode = 400;
      res.end(page('Provider error', `<pre class="error">${esc(err.message)}</pre>`));
    }
  });
  console.log(`listening ${issuer}`);
});
