// The seed's three webhooks in Node.js, written the usual way (twilio's validateRequest and
// TwiML builder, @aws-sdk/client-dynamodb v3), behind a Runtime API loop like the one in Lambda's
// Node.js runtime: the peer that cli/examples/warm.rs measures beside our functions
// (BENCHMARKS.md, "Warm invocations"). `node peer.mjs answer|status|recording`, with the
// environment a function gets (AWS_LAMBDA_RUNTIME_API, the table names, TWILIO_AUTH_TOKEN,
// PUBLIC_BASE_URL, AWS_ENDPOINT_URL_DYNAMODB).
//
// Its job is the seed's, lighter than ours: per webhook, validateRequest, at most one GetItem
// (the tracking number, cached once read, or the call's owner) and one conditional PutItem (the
// call or the event, keyed on the Twilio SID, so a duplicate writes nothing). No index items,
// no counters, no merge, no transaction.

import http from 'node:http';
import twilio from 'twilio';
import { DynamoDBClient, GetItemCommand, PutItemCommand, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

const token = process.env.TWILIO_AUTH_TOKEN;
const base = process.env.PUBLIC_BASE_URL;
const tables = {
  calls: process.env.CALLS_TABLE,
  events: process.env.CALL_EVENTS_TABLE,
  numbers: process.env.TRACKING_NUMBERS_TABLE,
};
// Built once, outside the handler, as AWS recommends.
const dynamodb = new DynamoDBClient({});
const numbers = new Map();

const S = (value) => ({ S: String(value) });

/** A conditional PutItem; false when the item was there already (a duplicate). */
async function putNew(table, item, key) {
  try {
    await dynamodb.send(new PutItemCommand({ TableName: table, Item: item, ConditionExpression: `attribute_not_exists(${key})` }));
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

const reply = (statusCode, body = '', contentType) => ({
  statusCode,
  headers: contentType ? { 'content-type': contentType } : {},
  body,
});

async function answer(p) {
  let number = numbers.get(p.To);
  if (!number) {
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: tables.numbers, Key: { phoneNumber: S(p.To) } }));
    number = Item;
    if (number) numbers.set(p.To, number);
  }
  const twiml = new twilio.twiml.VoiceResponse();
  if (!number) {
    twiml.say('This number is not in service.');
    return reply(200, twiml.toString(), 'text/xml');
  }
  await putNew(
    tables.calls,
    {
      callSid: S(p.CallSid),
      tenantId: number.tenantId,
      userId: number.userId,
      from: S(p.From),
      to: S(p.To),
      status: S(p.CallStatus),
      startedAt: { N: String(Date.now()) },
    },
    'callSid',
  );
  const dial = twiml.dial({
    action: `${base}/api/twilio/voice/dial-result`,
    record: 'record-from-answer-dual',
    recordingStatusCallback: `${base}/api/twilio/voice/recording`,
    timeout: 20,
  });
  dial.number({ statusCallback: `${base}/api/twilio/voice/status`, statusCallbackEvent: 'initiated ringing answered completed' }, number.forwardTo.S);
  return reply(200, twiml.toString(), 'text/xml');
}

/** A status or recording callback: the call's owner read, the event stored once. */
async function callback(p, eventKey) {
  const callSid = p.ParentCallSid ?? p.CallSid;
  const { Item: call } = await dynamodb.send(new GetItemCommand({ TableName: tables.calls, Key: { callSid: S(callSid) } }));
  await putNew(
    tables.events,
    { callSid: S(callSid), eventKey: S(eventKey), tenantId: call?.tenantId ?? { NULL: true }, params: S(JSON.stringify(p)) },
    'eventKey',
  );
  return reply(204);
}

const routes = {
  answer,
  status: (p) => callback(p, `status#${p.CallSid}#${p.SequenceNumber}#${p.CallStatus}`),
  recording: (p) => callback(p, `recording#${p.RecordingSid}`),
};
const route = routes[process.argv[2]];
if (!route) throw new Error(`usage: node peer.mjs ${Object.keys(routes).join('|')}`);

async function handler(event) {
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString() : event.body;
  const params = Object.fromEntries(new URLSearchParams(body));
  if (!twilio.validateRequest(token, event.headers['x-twilio-signature'], base + event.rawPath, params)) {
    return reply(403, 'bad signature');
  }
  const response = await route(params);
  console.log(JSON.stringify({ level: 'INFO', message: 'handled', route: process.argv[2], callSid: params.CallSid, statusCode: response.statusCode }));
  return response;
}

// The Runtime API loop: GET the next event, POST its response, over one kept-alive connection.
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function runtime(method, path, body) {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const request = http.request({ host, port, method, path: `/2018-06-01/runtime${path}`, agent, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

for (;;) {
  const next = await runtime('GET', '/invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  try {
    const result = await handler(JSON.parse(next.body));
    await runtime('POST', `/invocation/${id}/response`, JSON.stringify(result));
  } catch (error) {
    await runtime('POST', `/invocation/${id}/error`, JSON.stringify({ errorType: error.name, errorMessage: error.message }));
  }
}
