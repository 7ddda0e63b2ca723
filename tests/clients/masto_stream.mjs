// Acceptance: masto.js registers an app, logs in through the OAuth consent page
// (out-of-band code, exchanged by masto's OAuth client), posts, and receives the
// post on WebSocket streams.
// Usage: node masto_stream.mjs BASE_URL USERNAME PASSWORD
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient } from "masto";

const [base, username, password] = process.argv.slice(2);
const OOB = "urn:ietf:wg:oauth:2.0:oob";
const SCOPES = "read write follow";
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
setTimeout(() => fail("timed out waiting for streamed events"), 30000);

// The person signs in on the consent page, as a browser would.
const anonymous = createRestAPIClient({ url: base });
const app = await anonymous.v1.apps.create({ clientName: "masto.js acceptance", redirectUris: OOB, scopes: SCOPES });
const query = new URLSearchParams({ client_id: app.clientId, redirect_uri: OOB, response_type: "code", scope: SCOPES });
const page = await fetch(`${base}/oauth/authorize?${query}`);
const cookie = (page.headers.get("set-cookie") || "").split(";")[0];
const html = await page.text();
const form = new URLSearchParams();
for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
  form.append(m[1], m[2].replaceAll("&amp;", "&").replaceAll("&#x2f;", "/"));
}
form.append("username", username);
form.append("password", password);
form.append("decision", "authorize");
const done = await fetch(`${base}/oauth/authorize`, { method: "POST", body: form, headers: { cookie } });
const code = (await done.text()).match(/id="authorization-code">\s*([^<\s]+)/)?.[1];
if (!code) fail(`no code on the page (status ${done.status})`);
const oauth = createOAuthAPIClient({ url: base });
const token = await oauth.token.create({
  grantType: "authorization_code",
  clientId: app.clientId,
  clientSecret: app.clientSecret,
  redirectUri: OOB,
  code,
  scope: SCOPES,
});
const accessToken = token.accessToken;

const rest = createRestAPIClient({ url: base, accessToken });
const me = await rest.v1.accounts.verifyCredentials();
if (me.username !== "streamer") fail(`unexpected account ${me.username}`);
const instance = await rest.v2.instance.fetch();
const streaming = createStreamingAPIClient({
  streamingApiUrl: instance.configuration.urls.streaming,
  accessToken,
  retry: 3,
});

const user = streaming.user.subscribe();
const tag = streaming.hashtag.subscribe({ tag: "alumni" });
// Subscriptions are sent once the socket opens, and the server does not
// acknowledge them: post until both streams have delivered a post.
let round = 0;
const poster = setInterval(async () => {
  round += 1;
  await rest.v1.statuses.create({ status: `streamed hello ${round} #alumni`, visibility: "public" });
}, 700);

const seen = new Set();
const watch = async (sub, name) => {
  for await (const event of sub) {
    if (event.event === "update" && event.payload.content.includes("streamed hello")) {
      if (event.payload.account.id !== me.id) fail("wrong author");
      seen.add(name);
      return;
    }
  }
};
await Promise.all([watch(user, "user"), watch(tag, "hashtag")]);
clearInterval(poster);
if (seen.size !== 2) fail(`only saw ${[...seen]}`);
user.unsubscribe();
tag.unsubscribe();
streaming.close();
console.log("masto.js acceptance: OK");
process.exit(0);
