#!/usr/bin/env python3
"""An independent client of overlap's pipes service, on Debian's python3-grpcio.

It generates the message classes from proto/overlap/pipes/v1/pipes.proto with
protoc, runs four calls against a server and prints what it saw as one JSON
object on stdout (the Go test in e2e/pipes_clients_test.go checks it):

  ints     IntPipe with echo: [in] chunks [1,2,3] [4,5] then an empty chunk;
           every [out] chunk, whether an empty chunk ended the [out] pipe,
           and the reply
  orders   Import of three purchase orders in two chunks: confirmations, summary
  abort    IntPipe asked to abort after 2 chunks: the status code and details
  invalid  Import of an order with quantity 0: the status code and details

Usage: pipes_client.py --addr HOST:PORT [--protoc PATH]
"""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "proto")
PROTO = "overlap/pipes/v1/pipes.proto"


def load_messages(protoc):
    out = tempfile.mkdtemp(prefix="pipes_pb2_")
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    subprocess.run([protoc, "-I", PROTO_ROOT, "--python_out", out, PROTO], check=True)
    sys.path.insert(0, out)
    from overlap.pipes.v1 import pipes_pb2  # noqa: E402 (generated above)
    return pipes_pb2


def method(channel, pb, name, req, resp):
    return channel.stream_stream(
        "/overlap.pipes.v1.Pipes/" + name,
        request_serializer=req.SerializeToString,
        response_deserializer=resp.FromString,
    )


def status(err):
    return {"code": err.code().name, "details": err.details()}


def ints(channel, pb):
    call = method(channel, pb, "IntPipe", pb.IntPipeRequest, pb.IntPipeResponse)
    reqs = [
        pb.IntPipeRequest(params=pb.IntPipeParams(a=5, echo=True, out_chunks=3, out_chunk_len=4)),
        pb.IntPipeRequest(chunk=pb.IntChunk(values=[1, 2, 3])),
        pb.IntPipeRequest(chunk=pb.IntChunk(values=[4, 5])),
        pb.IntPipeRequest(chunk=pb.IntChunk()),  # an empty chunk ends the [in] pipe
    ]
    out, ended, reply = [], False, None
    for m in call(iter(reqs), timeout=30):
        if m.WhichOneof("msg") == "chunk":
            if len(m.chunk.values) == 0:
                ended = True  # the empty chunk ends the [out] pipe
            else:
                out.append(list(m.chunk.values))
        else:
            r = m.reply
            reply = {"b": r.b, "in_chunks": r.in_chunks, "in_values": r.in_values, "in_sum": r.in_sum,
                     "out_chunks": r.out_chunks, "out_values": r.out_values}
    return {"out": out, "out_ended": ended, "reply": reply}


def order(pb, oid, qty, price):
    return pb.PurchaseOrder(order_id=oid, customer="Contoso",
                            lines=[pb.OrderLine(sku="SKU-1", quantity=qty, unit_price_cents=price),
                                   pb.OrderLine(sku="SKU-2", quantity=1, unit_price_cents=100)])


def orders(channel, pb):
    call = method(channel, pb, "Import", pb.ImportRequest, pb.ImportResponse)
    reqs = [
        pb.ImportRequest(params=pb.ImportParams(batch_id="py")),
        pb.ImportRequest(orders=pb.OrderChunk(orders=[order(pb, "A", 2, 1000), order(pb, "B", 3, 50)])),
        pb.ImportRequest(orders=pb.OrderChunk(orders=[order(pb, "C", 1, 1)])),
    ]  # no empty chunk: half-closing the stream ends the [in] pipe too
    confs, ended, summary = [], False, None
    for m in call(iter(reqs), timeout=30):
        if m.WhichOneof("msg") == "confirmations" and len(m.confirmations.confirmations) == 0:
            ended = True
        elif m.WhichOneof("msg") == "confirmations":
            confs.append([{"order_id": c.order_id, "confirmation_id": c.confirmation_id,
                           "lines": c.lines, "total_cents": c.total_cents} for c in m.confirmations.confirmations])
        else:
            s = m.summary
            summary = {"batch_id": s.batch_id, "orders": s.orders, "lines": s.lines, "total_cents": s.total_cents}
    return {"confirmations": confs, "out_ended": ended, "summary": summary}


def abort(channel, pb):
    call = method(channel, pb, "IntPipe", pb.IntPipeRequest, pb.IntPipeResponse)
    reqs = [pb.IntPipeRequest(params=pb.IntPipeParams(abort_after=2))] + \
        [pb.IntPipeRequest(chunk=pb.IntChunk(values=[i])) for i in range(1, 4)]
    try:
        for _ in call(iter(reqs), timeout=30):
            pass
    except grpc.RpcError as e:
        return status(e)
    return {"code": "OK"}


def invalid(channel, pb):
    call = method(channel, pb, "Import", pb.ImportRequest, pb.ImportResponse)
    reqs = [pb.ImportRequest(params=pb.ImportParams(batch_id="py")),
            pb.ImportRequest(orders=pb.OrderChunk(orders=[order(pb, "A", 0, 1000)]))]
    try:
        for _ in call(iter(reqs), timeout=30):
            pass
    except grpc.RpcError as e:
        return status(e)
    return {"code": "OK"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--addr", required=True)
    ap.add_argument("--protoc", default="protoc")
    args = ap.parse_args()
    pb = load_messages(args.protoc)
    with grpc.insecure_channel(args.addr) as channel:
        result = {"ints": ints(channel, pb), "orders": orders(channel, pb),
                  "abort": abort(channel, pb), "invalid": invalid(channel, pb)}
    json.dump(result, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
