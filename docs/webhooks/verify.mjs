// Checks a calltrack webhook (Standard Webhooks) with Node's standard library alone.
// `node verify.mjs < case.json`, with {"secret","headers","body"}, prints `valid` or `invalid: <reason>`.
import { createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// headers: lowercase names; body: the raw body (string or Buffer) as received, before JSON.parse.
export function verify(secret, headers, body) {
  const id = headers["webhook-id"], timestamp = headers["webhook-timestamp"], signatures = headers["webhook-signature"];
  if (!id || !timestamp || !signatures) throw new Error("missing webhook headers");
  // Refuses replays: written as !(… <= 300) so that a timestamp that is not a number fails too.
  if (!(Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300)) throw new Error("timestamp too old or too new");
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = Buffer.from("v1," + createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64"));
  const matches = (s) => Buffer.byteLength(s) === expected.length && timingSafeEqual(Buffer.from(s), expected);
  if (!signatures.split(" ").some(matches)) throw new Error("signature does not match");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { secret, headers, body } = JSON.parse(readFileSync(0, "utf8"));
  try {
    verify(secret, headers, body);
    console.log("valid");
  } catch (e) {
    console.log(`invalid: ${e.message}`);
    process.exitCode = 1;
  }
}
