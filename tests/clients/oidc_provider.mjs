// A real OpenID Connect provider for the single sign-on tests: the certified
// `oidc-provider` package from npm with its development sign-in pages (any
// login name, any password). Each login name is a person of the company:
// e-mail `<login>@example.com` (verified; `name=address` for another one),
// name and preferred_username from the login. `nomail_*` logins get no
// e-mail address at all.
// Usage: node oidc_provider.mjs REDIRECT_URI CLIENT_SECRET
// Prints "READY <issuer>" once it listens, then serves until killed.
import http from 'node:http';
import Provider from 'oidc-provider';

const [redirectUri, clientSecret] = process.argv.slice(2);
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

function claims(login) {
  // `name=address` gives the person another address than name@example.com.
  const [name, address] = login.includes('=') ? login.split('=', 2) : [login, `${login}@example.com`];
  const person = { sub: login, preferred_username: name, name: `${name} (ACME)` };
  if (!name.startsWith('nomail_')) {
    person.email = address;
    person.email_verified = true;
  }
  if (name.endsWith('_ja')) person.locale = 'ja-JP';
  return person;
}

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'tsunagu',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'locale'],
  },
  // Any login name is a person (the development sign-in pages ask for one).
  findAccount: async (ctx, login) => ({ accountId: login, claims: async () => claims(login) }),
  pkce: { required: () => true },
  cookies: { keys: ['tsunagu-test-only-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});
server.on('request', provider.callback());
console.log(`READY ${issuer}`);
