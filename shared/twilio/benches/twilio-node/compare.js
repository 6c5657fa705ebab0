// twilio-node's own webhook check, timed on the same input as the criterion bench
// `parse_verify/decode_and_verify` (benches/parse_verify.rs). Run: `make bench-node`.
const { validateRequest } = require("twilio/lib/webhooks/webhooks");
const querystring = require("querystring");

const URL = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/twilio/call-status";
const BODY = "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&CallDuration=47&CallSid=CA11111111111111111111111111111111&CallStatus=completed&CallbackSource=call-progress-events&Called=%2B14155550100&Caller=%2B12125550199&Direction=inbound&Duration=1&From=%2B12125550199&SequenceNumber=0&Timestamp=Tue%2C+02+Jan+2024+17%3A03%3A12+%2B0000&To=%2B14155550100";
const SIGNATURE = "XzxRK3G6TxYRHP0GYPadLK1SLjw=";
const TOKEN = "9f3c2b1a8e7d6c5b4a3f2e1d0c9b8a7f";

function parseAndValidate() {
  if (!validateRequest(TOKEN, SIGNATURE, URL, querystring.parse(BODY))) throw new Error("signature should be valid");
}

for (let i = 0; i < 100000; i++) parseAndValidate(); // let the JIT settle
const runs = [];
for (let r = 0; r < 7; r++) {
  const n = 100000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) parseAndValidate();
  runs.push(Number(process.hrtime.bigint() - start) / n / 1000);
}
runs.sort((a, b) => a - b);
console.log(`twilio-node ${require("twilio/package.json").version} querystring.parse + validateRequest: median ${runs[3].toFixed(2)} µs (min ${runs[0].toFixed(2)}, max ${runs[6].toFixed(2)}) over 7 × 100000`);

// The ratio, against the criterion run `make bench-node` made just before.
const estimates = `${__dirname}/../../../target/criterion/parse_verify_decode_and_verify/new/estimates.json`;
if (require("fs").existsSync(estimates)) {
  const ours = JSON.parse(require("fs").readFileSync(estimates, "utf8")).median.point_estimate / 1000;
  console.log(`calltrack parse_verify/decode_and_verify: median ${ours.toFixed(2)} µs: ${(runs[3] / ours).toFixed(1)}× faster than twilio-node`);
}
