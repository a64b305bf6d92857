// The OpenID Connect provider the tests sign in with: `oidc-provider` (the
// certified Node.js implementation), configured like a company's identity
// provider. Its own login page accepts any login: the login names one of the
// people of the accounts file, whose claims the provider then releases.
//
// node provider.mjs <config.json>
//
// config.json: {
//   "port": 4000,                 where it listens
//   "issuer": "http://127.0.0.1:4000",  its name (may be a proxy in front)
//   "clients": [{ "client_id", "client_secret", "redirect_uris",
//                 "post_logout_redirect_uris" }],
//   "accounts": { "<login>": { "email": ..., "groups": [...], ... } },
//   "clock_offset_seconds": 0,    a provider whose clock is wrong
//   "id_token_ttl_seconds": 3600  how long its ID tokens last
// }
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

if (config.clock_offset_seconds) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + config.clock_offset_seconds * 1000;
}

// Read again at each sign-in, so that a test can change someone's claims
// (a new department, a group left) between two sign-ins.
const accounts = () => JSON.parse(readFileSync(process.argv[2], 'utf8')).accounts || {};

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...c,
  })),
  async findAccount(ctx, id) {
    const claims = accounts()[id] || { email: `${id}@unknown.example`, email_verified: false };
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...claims };
      },
    };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'given_name', 'family_name'],
    work: ['department', 'job_title', 'site', 'groups'],
  },
  scopes: ['openid', 'email', 'profile', 'work'],
  // A company's own application: no consent screen, every scope asked for
  // is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const found = await ctx.oidc.provider.Grant.find(grantId);
      if (found) return found;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
  pkce: { required: () => true },
  ttl: { IdToken: config.id_token_ttl_seconds || 3600 },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['ruche-tests-only'] },
});
provider.proxy = true;

provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${config.port}`);
});
