#!/usr/bin/env node
// An independent client of overlap's pipes service, on Node's @grpc/grpc-js
// (with @grpc/proto-loader reading proto/overlap/pipes/v1/pipes.proto). It
// runs the same four calls as ../python/pipes_client.py and prints what it
// saw as one JSON object on stdout, in the same shape.
//
// Usage: node pipes_client.js --addr HOST:PORT
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const protoRoot = path.join(__dirname, '..', '..', 'proto');
const def = loader.loadSync('overlap/pipes/v1/pipes.proto', {
  includeDirs: [protoRoot], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
});
const pb = grpc.loadPackageDefinition(def).overlap.pipes.v1;

function statusOf(err) {
  const name = Object.keys(grpc.status).find((k) => grpc.status[k] === err.code);
  return { code: name, details: err.details };
}

// call runs one bidirectional call: writes reqs, ends, collects responses.
function call(client, method, reqs) {
  return new Promise((resolve) => {
    const got = [];
    const deadline = new Date(Date.now() + 30000);
    const st = client[method]({ deadline });
    st.on('data', (m) => got.push(m));
    st.on('error', (err) => resolve({ err, got }));
    st.on('end', () => resolve({ got }));
    for (const r of reqs) st.write(r);
    st.end();
  });
}

const order = (id, qty, price) => ({
  order_id: id, customer: 'Contoso',
  lines: [{ sku: 'SKU-1', quantity: qty, unit_price_cents: price }, { sku: 'SKU-2', quantity: 1, unit_price_cents: 100 }],
});

async function main() {
  const i = process.argv.indexOf('--addr');
  if (i < 0 || !process.argv[i + 1]) {
    console.error('usage: node pipes_client.js --addr HOST:PORT');
    process.exit(2);
  }
  const client = new pb.Pipes(process.argv[i + 1], grpc.credentials.createInsecure());
  const result = {};

  let r = await call(client, 'IntPipe', [
    { params: { a: 5, echo: true, out_chunks: 3, out_chunk_len: 4 } },
    { chunk: { values: [1, 2, 3] } },
    { chunk: { values: [4, 5] } },
    { chunk: { values: [] } }, // an empty chunk ends the [in] pipe
  ]);
  if (r.err) throw r.err;
  result.ints = { out: [], out_ended: false, reply: null };
  for (const m of r.got) {
    if (m.msg === 'chunk' && m.chunk.values.length === 0) result.ints.out_ended = true; // the empty chunk ends the [out] pipe
    else if (m.msg === 'chunk') result.ints.out.push(m.chunk.values);
    else result.ints.reply = m.reply;
  }

  r = await call(client, 'Import', [
    { params: { batch_id: 'js' } },
    { orders: { orders: [order('A', 2, 1000), order('B', 3, 50)] } },
    { orders: { orders: [order('C', 1, 1)] } },
  ]); // no empty chunk: half-closing the stream ends the [in] pipe too
  if (r.err) throw r.err;
  result.orders = { confirmations: [], out_ended: false, summary: null };
  for (const m of r.got) {
    if (m.msg === 'confirmations' && m.confirmations.confirmations.length === 0) result.orders.out_ended = true;
    else if (m.msg === 'confirmations') result.orders.confirmations.push(m.confirmations.confirmations);
    else result.orders.summary = m.summary;
  }

  r = await call(client, 'IntPipe', [{ params: { abort_after: 2 } }, { chunk: { values: [1] } }, { chunk: { values: [2] } }, { chunk: { values: [3] } }]);
  result.abort = r.err ? statusOf(r.err) : { code: 'OK' };

  r = await call(client, 'Import', [{ params: { batch_id: 'js' } }, { orders: { orders: [order('A', 0, 1000)] } }]);
  result.invalid = r.err ? statusOf(r.err) : { code: 'OK' };

  client.close();
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
