#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of the local AWS emulator, for landfall's fault tests.

    fault-proxy.py --port 0 --upstream http://127.0.0.1:5000 [--throttle 0.2] [--drop 0.05]
                   [--slow 0.1] [--create-account-in-progress 3] [--seed 1]
                   [--fail-create-account NAME=REASON] [--deny-assume-role 3]
                   [--lose-response CreateGroup] [--lose-put-response .lock]
                   [--latency 0.1] [--create-account-seconds 30]

Prints `listening on PORT` once ready. Per request, independently:
  --throttle P  answer with the service's own throttling error (EC2 RequestLimitExceeded, IAM/STS
                Throttling, Organizations TooManyRequestsException, S3 SlowDown) without forwarding;
  --drop P      close the connection without answering and without forwarding (a dropped connection);
  --slow P      wait 0.5-1.5 s before forwarding;
  --create-account-in-progress N
                report CreateAccount as IN_PROGRESS for the first N DescribeCreateAccountStatus polls
                of each request id (the emulator reports SUCCEEDED at once).
  --fail-create-account NAME=REASON
                report the creation of the account named NAME as FAILED with REASON (e.g.
                EMAIL_ALREADY_EXISTS, as for an email used by an account outside the organization).
                The emulator did create it; AWS would not have. Repeatable.
  --lose-response OPERATION
                forward the first request of OPERATION (e.g. CreateGroup) to the emulator, then close
                the connection without passing the answer on: AWS did it, the client never heard.
                Repeatable.
  --lose-put-response SUFFIX
                the same for the first S3 PutObject of each key ending in SUFFIX (`.lock`: the state
                locks, `.json`: the state documents): the object is written, the client never hears so
                and sends it again. Repeatable.
  --deny-assume-role N
                answer the first N AssumeRole requests of each role ARN with AccessDenied, as AWS does
                for a new account whose access role is not assumable yet.
  --refuse OPERATION:TEXT
                answer requests of OPERATION whose body contains TEXT with a 400 error the client
                cannot retry (InvalidParameterValue), without forwarding. Repeatable.
  --strict      refuse, as AWS does and the emulator does not, DeleteVpc while an internet gateway
                is attached to the VPC and DeleteSubnet while a NAT gateway lives in the subnet
                (400 DependencyViolation), and AssociateRouteTable for a subnet associated with
                a table already (400 Resource.AlreadyAssociated; the emulator silently keeps the
                old association); counted as "refused_dependency".
  --latency S   wait S seconds (e.g. 0.1) before forwarding every request: a fixed round trip, as
                from a runner to AWS (the emulator answers in about 2 ms). Counted as "delayed".
  --create-account-seconds S
                report every account creation IN_PROGRESS until S seconds after its CreateAccount
                answer (as AWS, where it takes minutes), counted as "in_progress".
  --reads MODE  `record`: keep the answer of every read-only request (Describe*, Get*, List*,
                AssumeRole; REST GET and HEAD) forwarded, keyed by service, operation, the caller's
                access key id and the request's parameters (not the signature, date or session token,
                new every run). `off` (the default) keeps none. Switch at run time with
                `POST /__reads?mode=record|off`.
  --replay-port PORT
                also listen on PORT (0: any free one; printed as `replaying on PORT`) and answer there
                every read from the recording, after the --latency delay, sending nothing to the
                emulator; a request not recorded is forwarded (counted as "replay_missed"). A recorded
                AssumeRole hands out the recorded credentials again, so the reads made with them match.
                This separates the client's own overlap from the emulator's throughput (one Python
                process, which AWS does not share): a replayed run measures the client under pure
                per-request latency. The replaying side is an event loop that parses little, so that
                hundreds of requests at once do not queue in this proxy either.
  --log FILE    append one JSON line per request: when it arrived and was answered (seconds since
                the proxy started), its service, operation and the caller's access key id (one per
                assumed role); `scripts/round-trips.py FILE` reads it.
Counts of injected faults are kept at GET /__faults (JSON). Standard library only.
"""

import argparse
import http
import http.client
import http.server
import json
import random
import re
import socketserver
import sys
import threading
import time
import urllib.parse

lock = threading.Lock()
counts = {"forwarded": 0, "throttled": 0, "dropped": 0, "slowed": 0, "in_progress": 0,
          "failed_creations": 0, "denied_assume_role": 0, "lost_responses": 0,
          "refused_dependency": 0, "refused": 0, "delayed": 0, "recorded": 0, "replayed": 0,
          "replay_missed": 0}
lost = set()
polls = {}
created_at = {}
assume_attempts = {}
recorded = {}  # --reads record: request key -> recorded answers (status, headers, body), in arrival order
replays = {}  # --replay-port: request key -> how many of its answers were replayed
READ_OPERATION = re.compile(r"^(Describe|Get|List)|^AssumeRole$")


# REST services' creates, named by method and path, for --lose-response. Route 53 speaks REST-XML.
REST_OPERATIONS = [
    ("POST", re.compile(r"/2013-04-01/hostedzone$"), "CreateHostedZone"),
    ("POST", re.compile(r"/2013-04-01/hostedzone/[^/]+/associatevpc$"), "AssociateVPCWithHostedZone"),
    # GuardDuty speaks REST-JSON.
    ("POST", re.compile(r"^/admin/enable$"), "EnableOrganizationAdminAccount"),
]


def rest_operation(method, path):
    return next((op for m, pattern, op in REST_OPERATIONS if m == method and pattern.search(path)), "")


def service_of(headers):
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request", auth)
    return m.group(1) if m else ""


def throttle_response(service):
    """Status, content type and body of each service's throttling error, in its own protocol."""
    if service == "ec2":
        body = ("<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
                "exceeded.</Message></Error></Errors><RequestID>fault</RequestID></Response>")
        return 503, "text/xml", body
    if service == "organizations":
        body = json.dumps({"__type": "TooManyRequestsException", "Message": "Rate exceeded"})
        return 400, "application/x-amz-json-1.1", body
    if service == "s3":
        body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return 503, "application/xml", body
    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
            "</Message></Error><RequestId>fault</RequestId></ErrorResponse>")
    return 400, "text/xml", body


def operation_of(headers, body, method, path="/"):
    """The operation's name: from X-Amz-Target (JSON), Action (query), or for REST-JSON services
    that name it in the path (`POST /getAlternateContact`) from the path; else the method."""
    target = headers.get("X-Amz-Target", "")
    if target:
        return target.rsplit(".", 1)[-1]
    action = urllib.parse.parse_qs(body.decode(errors="replace")).get("Action")
    if action:
        return action[0]
    last = urllib.parse.urlsplit(path).path.rsplit("/", 1)[-1]
    return last[0].upper() + last[1:] if re.match(r"^[a-z]+[A-Z]\w*$", last) else method


def is_read(op, method):
    """A request that changes nothing: a read-only operation, or a REST GET or HEAD."""
    return bool(READ_OPERATION.search(op)) or method in ("GET", "HEAD")


def read_key(headers, body, method, path):
    """What identifies a read across runs: service, caller, method, path and parameters, not the
    signature, date or session token (new every run). Parameters are sorted (form and JSON)."""
    key = re.search(r"Credential=([^/]+)/", headers.get("Authorization", ""))
    url = urllib.parse.urlsplit(path)
    query = sorted(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
    text = body.decode(errors="replace")
    ctype = headers.get("Content-Type", "")
    if "x-www-form-urlencoded" in ctype:
        params = repr(sorted(urllib.parse.parse_qsl(text, keep_blank_values=True)))
    elif "json" in ctype and text:
        params = json.dumps(json.loads(text), sort_keys=True)
    else:
        params = text
    return (service_of(headers), headers.get("X-Amz-Target", ""), key.group(1) if key else "",
            headers.get("x-amz-account-id", ""), method, url.path, repr(query), params)


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(self, status, ctype, body):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        arrived = time.monotonic() - started
        body = self.read_body()
        if self.path == "/__faults":
            with lock:
                return self.reply(200, "application/json", json.dumps(counts))
        if self.path.startswith("/__reads"):
            return self.switch_reads()
        try:
            return self.handle_request(body)
        finally:
            if args.log:
                self.record(arrived, body)

    def record(self, arrived, body):
        op = operation_of(self.headers, body, self.command, self.path)
        key = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
        line = json.dumps({"start": round(arrived, 4), "end": round(time.monotonic() - started, 4),
                           "service": service_of(self.headers), "op": op,
                           "key": key.group(1) if key else ""})
        with lock:
            log.write(line + "\n")
            log.flush()

    def switch_reads(self):
        mode = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("mode", [""])[0]
        if mode not in ("off", "record"):
            return self.reply(400, "text/plain", "mode must be off or record\n")
        with lock:
            args.reads = mode
            replays.clear()
        return self.reply(200, "text/plain", f"reads: {mode}\n")

    def keep(self, body, status, headers, data):
        if args.reads == "record" and is_read(operation_of(self.headers, body, self.command, self.path), self.command):
            key = read_key(self.headers, body, self.command, self.path)
            with lock:
                recorded.setdefault(key, []).append((status, headers, data))
                counts["recorded"] += 1

    def answer(self, status, headers, data):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_request(self, body):
        service = service_of(self.headers)
        if args.deny_assume_role and service == "sts":
            form = urllib.parse.parse_qs(body.decode(errors="replace"))
            if form.get("Action") == ["AssumeRole"]:
                arn = form.get("RoleArn", [""])[0]
                with lock:
                    assume_attempts[arn] = assume_attempts.get(arn, 0) + 1
                    denied = assume_attempts[arn] <= args.deny_assume_role
                    if denied:
                        counts["denied_assume_role"] += 1
                if denied:
                    return self.reply(403, "text/xml", (
                        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>"
                        f"User is not authorized to perform: sts:AssumeRole on resource: {arn}"
                        "</Message></Error><RequestId>fault</RequestId></ErrorResponse>"))
        if args.refuse and service == "ec2":
            text = body.decode(errors="replace")
            action = urllib.parse.parse_qs(text).get("Action", [""])[0]
            for rule in args.refuse:
                op, _, needle = rule.partition(":")
                if op == action and needle in urllib.parse.unquote_plus(text):
                    with lock:
                        counts["refused"] += 1
                    return self.reply(400, "text/xml", (
                        "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>"
                        f"refused by the fault proxy ({rule})</Message></Error></Errors>"
                        "<RequestID>fault</RequestID></Response>"))
        if args.strict and service == "ec2":
            refusal = self.aws_would_refuse(body)
            if refusal:
                with lock:
                    counts["refused_dependency"] += 1
                code, message = refusal
                return self.reply(400, "text/xml", (
                    f"<Response><Errors><Error><Code>{code}</Code><Message>"
                    f"{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>"))
        roll = rng.random()
        if roll < args.drop:
            with lock:
                counts["dropped"] += 1
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if roll < args.drop + args.throttle:
            with lock:
                counts["throttled"] += 1
            return self.reply(*throttle_response(service))
        if roll < args.drop + args.throttle + args.slow:
            with lock:
                counts["slowed"] += 1
            time.sleep(0.5 + rng.random())
        if args.latency:
            with lock:
                counts["delayed"] += 1
            time.sleep(args.latency)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        upstream.request(self.command, self.path, body=body, headers=headers)
        resp = upstream.getresponse()
        data = resp.read()
        with lock:
            counts["forwarded"] += 1
        target = self.headers.get("X-Amz-Target", "")
        if args.create_account_seconds and target.endswith(".CreateAccount"):
            data = self.start_creation(data)
        if args.create_account_in_progress and target.endswith("DescribeCreateAccountStatus"):
            data = self.hold_in_progress(data)
        if args.create_account_seconds and target.endswith("DescribeCreateAccountStatus"):
            data = self.hold_for_seconds(data)
        if failures and target.endswith("DescribeCreateAccountStatus"):
            data = self.fail_creation(data)
        if args.lose_response or args.lose_put_response:
            op = target.rsplit(".", 1)[-1] if target else \
                urllib.parse.parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
            key = urllib.parse.urlparse(self.path).path
            op = op or rest_operation(self.command, key)
            if self.command == "PUT" and any(key.endswith(s) for s in args.lose_put_response):
                op = "PutObject " + key
            with lock:
                lose = (op in args.lose_response or op.startswith("PutObject ")) and op not in lost
                if lose:
                    lost.add(op)
                    counts["lost_responses"] += 1
            if lose:
                upstream.close()
                self.close_connection = True
                self.connection.shutdown(2)
                return
        kept = [(k, v) for k, v in resp.getheaders()
                if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date")]
        self.keep(body, resp.status, kept, data)
        self.answer(resp.status, kept, data)
        upstream.close()

    def ec2_query(self, params):
        """Asks the emulator an EC2 question with the caller's own headers (same account)."""
        body = urllib.parse.urlencode({"Version": "2016-11-15", **params}).encode()
        if args.latency:
            with lock:
                counts["delayed"] += 1
            time.sleep(args.latency)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        headers["Content-Length"] = str(len(body))
        upstream = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
        upstream.request("POST", "/", body=body, headers=headers)
        data = upstream.getresponse().read().decode(errors="replace")
        upstream.close()
        return data

    def aws_would_refuse(self, body):
        form = urllib.parse.parse_qs(body.decode(errors="replace"))
        action = form.get("Action", [""])[0]
        if action == "DeleteVpc":
            vpc = form.get("VpcId", [""])[0]
            found = self.ec2_query({"Action": "DescribeInternetGateways",
                                    "Filter.1.Name": "attachment.vpc-id", "Filter.1.Value.1": vpc})
            if "<internetGatewayId>" in found:
                return "DependencyViolation", f"The vpc '{vpc}' has dependencies and cannot be deleted."
        if action == "DeleteSubnet":
            subnet = form.get("SubnetId", [""])[0]
            found = self.ec2_query({"Action": "DescribeNatGateways",
                                    "Filter.1.Name": "subnet-id", "Filter.1.Value.1": subnet})
            states = re.findall(r"<state>([a-z]+)</state>", found)
            if any(s in ("pending", "available", "deleting") for s in states):
                return "DependencyViolation", f"The subnet '{subnet}' has dependencies and cannot be deleted."
        if action == "AssociateRouteTable" and "SubnetId" in form:
            # The emulator answers with the other table's association, changing nothing.
            subnet = form["SubnetId"][0]
            found = self.ec2_query({"Action": "DescribeRouteTables",
                                    "Filter.1.Name": "association.subnet-id", "Filter.1.Value.1": subnet})
            if f"<subnetId>{subnet}</subnetId>" in found:
                return "Resource.AlreadyAssociated", (
                    f"the specified association for route table {form.get('RouteTableId', [''])[0]} "
                    "conflicts with an existing association")
        return None

    def hold_in_progress(self, data):
        try:
            doc = json.loads(data)
            status = doc["CreateAccountStatus"]
        except (ValueError, KeyError):
            return data
        rid = status.get("Id", "")
        with lock:
            polls[rid] = polls.get(rid, 0) + 1
            held = polls[rid] <= args.create_account_in_progress
            if held:
                counts["in_progress"] += 1
        if held:
            status["State"] = "IN_PROGRESS"
            status.pop("AccountId", None)
            status.pop("CompletedTimestamp", None)
            return json.dumps(doc).encode()
        return data

    def start_creation(self, data):
        """Notes when a creation was requested, and answers IN_PROGRESS as AWS does."""
        try:
            doc = json.loads(data)
            status = doc["CreateAccountStatus"]
        except (ValueError, KeyError):
            return data
        with lock:
            created_at[status.get("Id", "")] = time.monotonic()
        status["State"] = "IN_PROGRESS"
        status.pop("AccountId", None)
        return json.dumps(doc).encode()

    def hold_for_seconds(self, data):
        try:
            doc = json.loads(data)
            status = doc["CreateAccountStatus"]
        except (ValueError, KeyError):
            return data
        with lock:
            started = created_at.get(status.get("Id", ""))
            held = started is not None and time.monotonic() - started < args.create_account_seconds
            if held:
                counts["in_progress"] += 1
        if held:
            status["State"] = "IN_PROGRESS"
            status.pop("AccountId", None)
            status.pop("CompletedTimestamp", None)
            return json.dumps(doc).encode()
        return data

    def fail_creation(self, data):
        try:
            doc = json.loads(data)
            status = doc["CreateAccountStatus"]
        except (ValueError, KeyError):
            return data
        reason = failures.get(status.get("AccountName", ""))
        if not reason:
            return data
        with lock:
            counts["failed_creations"] += 1
        status["State"] = "FAILED"
        status["FailureReason"] = reason
        status.pop("AccountId", None)
        return json.dumps(doc).encode()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


class Headers(dict):
    """Request headers by lower-case name, read like http.server's (case-insensitive `get`)."""

    def get(self, name, default=""):
        return super().get(name.lower(), default)


def forward(method, path, headers, body):
    """Sends a request to the emulator as it came (blocking); returns status, headers, body."""
    upstream = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
    upstream.request(method, path, body=body, headers={k: v for k, v in headers.items()
                                                       if k not in ("connection", "transfer-encoding")})
    resp = upstream.getresponse()
    data = resp.read()
    upstream.close()
    kept = [(k, v) for k, v in resp.getheaders()
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date")]
    return resp.status, kept, data


class Replayer:
    """--replay-port: answers reads from the recording on an event loop of its own thread."""

    def __init__(self, port):
        import asyncio
        self.asyncio = asyncio
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        async def start():
            self.server = await asyncio.start_server(self.serve, "127.0.0.1", port, backlog=1024)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        threading.Thread(target=self.loop.run_until_complete, args=(self.run(start),), daemon=True).start()
        ready.wait()

    async def run(self, start):
        await start()
        await self.server.serve_forever()

    async def serve(self, reader, writer):
        try:
            while await self.one(reader, writer):
                pass
        except (ConnectionError, self.asyncio.IncompleteReadError):
            pass
        writer.close()

    async def one(self, reader, writer):
        """Answers one request of a kept-alive connection; False once the client closed it."""
        head = await reader.readuntil(b"\r\n\r\n")
        arrived = time.monotonic() - started
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = Headers((k.strip().lower(), v.strip()) for k, _, v in
                          (line.partition(":") for line in lines[1:] if line))
        body = await reader.readexactly(int(headers.get("content-length") or 0))
        op = operation_of(headers, body, method, path)
        key = read_key(headers, body, method, path)
        with lock:
            answers = recorded.get(key) if is_read(op, method) else None
            n = replays.get(key, 0)
            replays[key] = n + 1
            counts["replayed" if answers else "replay_missed"] += 1
        if args.latency:
            await self.asyncio.sleep(args.latency)
        if answers:
            status, kept, data = answers[n % len(answers)]
        else:
            status, kept, data = await self.loop.run_in_executor(None, forward, method, path, headers, body)
        out = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"] + [f"{k}: {v}" for k, v in kept]
        out.append(f"Content-Length: {len(data)}")
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + data)
        await writer.drain()
        if log:
            access = re.search(r"Credential=([^/]+)/", headers.get("Authorization"))
            line = json.dumps({"start": round(arrived, 4), "end": round(time.monotonic() - started, 4),
                               "service": service_of(headers), "op": op,
                               "key": access.group(1) if access else ""})
            with lock:
                log.write(line + "\n")
                log.flush()
        return True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog (5) drops the connections a client opens at once beyond it, which then
    # wait for a TCP retransmission (1 s): a delay of the proxy's, not of the client or of AWS.
    request_queue_size = 1024


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--upstream", required=True)
    p.add_argument("--throttle", type=float, default=0.0)
    p.add_argument("--drop", type=float, default=0.0)
    p.add_argument("--slow", type=float, default=0.0)
    p.add_argument("--create-account-in-progress", type=int, default=0)
    p.add_argument("--fail-create-account", action="append", default=[], metavar="NAME=REASON")
    p.add_argument("--deny-assume-role", type=int, default=0)
    p.add_argument("--lose-response", action="append", default=[], metavar="OPERATION")
    p.add_argument("--lose-put-response", action="append", default=[], metavar="SUFFIX")
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--create-account-seconds", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--strict", action="store_true")
    p.add_argument("--refuse", action="append", default=[], metavar="OPERATION:TEXT")
    p.add_argument("--log", default=None, metavar="FILE")
    p.add_argument("--reads", choices=("off", "record"), default="off")
    p.add_argument("--replay-port", type=int, default=None)
    args = p.parse_args()
    started = time.monotonic()
    log = open(args.log, "a", encoding="utf-8") if args.log else None
    failures = dict(f.split("=", 1) for f in args.fail_create_account)
    rng = random.Random(args.seed)
    up = urllib.parse.urlparse(args.upstream)
    server = Server(("127.0.0.1", args.port), Proxy)
    print(f"listening on {server.server_address[1]}", flush=True)
    if args.replay_port is not None:
        replay_server = Replayer(args.replay_port)
        print(f"replaying on {replay_server.port}", flush=True)
    sys.stdout.flush()
    server.serve_forever()
