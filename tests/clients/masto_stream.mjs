// Acceptance: masto.js logs in, posts, and receives the post on a WebSocket stream.
// Usage: node masto_stream.mjs BASE_URL ACCESS_TOKEN
import { createRestAPIClient, createStreamingAPIClient } from "masto";

const [base, accessToken] = process.argv.slice(2);
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};
setTimeout(() => fail("timed out waiting for streamed events"), 30000);

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
// Subscriptions are sent when the socket opens; post once that has happened.
setTimeout(async () => {
  await rest.v1.statuses.create({ status: "streamed hello #alumni", visibility: "public" });
}, 1000);

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
if (seen.size !== 2) fail(`only saw ${[...seen]}`);
user.unsubscribe();
tag.unsubscribe();
streaming.close();
console.log("masto.js acceptance: OK");
process.exit(0);
