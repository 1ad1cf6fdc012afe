// A local OpenID provider for the hub's OpenID Connect tests (crates/hub/tests/oidc.rs):
// the npm package `oidc-provider` (MIT, installed by .ci/run into .ci/oidc) as an issuer on
// a loopback port, with one confidential client (the hub) and a few accounts whose claims
// map to hub roles. Its sign-in and consent pages are the package's development
// interactions (any login name is accepted; the name is the account).
//
// Environment:
//   PORT          the port to listen on (127.0.0.1)
//   ISSUER        the issuer URL, when it is not http://127.0.0.1:PORT (a proxy in front)
//   REDIRECT_URI  the hub's callback URL
//   KEY_DIR       where the signing keys live; key-<n>.jwk (private JWK) is made when missing,
//                 with key-<n>.der (PKCS#1 DER) and key-<n>.kid beside it, so the test can
//                 sign tokens with the issuer's own key
//   KEY           which key signs (1 or 2; default 1). Key rotation: restart with KEY=2 (the
//                 old key stays published after the new one).
//
// Accounts: admin-ann (groups kakehashi-admin), res-rob (kakehashi-researcher), stew-sue
// (kakehashi-steward, site de-berlin), anyone else has no group.
//
// Run by hand (README, "Sign-in with OpenID Connect"):
//   PORT=9400 REDIRECT_URI=http://127.0.0.1:8080/login/oidc/local/callback KEY_DIR=/tmp/kh-oidc \
//     NODE_PATH=.ci/oidc/node_modules node crates/hub/tests/oidc/provider.mjs

import { createRequire } from 'node:module';
import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// the package lives in .ci/oidc (or OIDC_PROVIDER_DIR), not beside this file
const dir = process.env.OIDC_PROVIDER_DIR || path.resolve('.ci/oidc');
const require = createRequire(path.join(dir, 'node_modules', 'x.js'));
const Provider = (await import(require.resolve('oidc-provider'))).default;

const port = Number(process.env.PORT || 9400);
// ISSUER: the issuer's URL when a proxy stands in front of it (the forged-token test's), else
// this provider's own address
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const keyDir = process.env.KEY_DIR || '/tmp/kh-oidc';
const active = Number(process.env.KEY || 1);
fs.mkdirSync(keyDir, { recursive: true });

function key(n) {
  const file = path.join(keyDir, `key-${n}.jwk`);
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = `test-key-${n}-${Date.now()}`;
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    fs.writeFileSync(path.join(keyDir, `key-${n}.der`), privateKey.export({ type: 'pkcs1', format: 'der' }));
    fs.writeFileSync(path.join(keyDir, `key-${n}.kid`), kid);
    fs.writeFileSync(file, JSON.stringify(jwk));
  }
  const jwk = JSON.parse(fs.readFileSync(file, 'utf8'));
  createPrivateKey({ key: jwk, format: 'jwk' }); // fails loudly on a damaged file
  return jwk;
}

// both keys exist from the start (the test signs forgeries with the unpublished one)
const [k1, k2] = [key(1), key(2)];
const keys = active === 2 ? [k2, k1] : [k1];

const accounts = {
  'admin-ann': { groups: ['kakehashi-admin'] },
  'res-rob': { groups: ['kakehashi-researcher', 'other-group'] },
  'stew-sue': { groups: ['kakehashi-steward'], site: 'de-berlin' },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'kakehashi-hub',
    client_secret: 'hub-test-secret',
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys },
  pkce: { required: () => true },
  // groups and site go into the ID token itself, not only to userinfo
  conformIdTokenClaims: false,
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email'],
    groups: ['groups', 'site'],
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        const a = accounts[id] || {};
        return { sub: id, preferred_username: id, name: id, email: `${id}@example.org`, ...a };
      },
    };
  },
  cookies: { keys: ['kakehashi-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer} key ${active}`);
});
