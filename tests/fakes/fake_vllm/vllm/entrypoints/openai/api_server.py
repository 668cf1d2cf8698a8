"""A stand-in for `python -m vllm.entrypoints.openai.api_server` in tests.

Put tests/fakes/fake_vllm on PYTHONPATH and ManagedVLLM runs this instead of
vLLM. Like vLLM it forks a helper process (its "engine core") into its process
group, so tests can check that stopping reaches the whole tree. FAKE_VLLM_MODE
picks the behaviour:

  ok          serve /health and /v1/models until killed (default)
  exit        print a few lines and exit with code 3 at once
  hang        never answer /health (start-up timeout)
  stubborn    like ok, but ignore SIGTERM (stop must escalate to SIGKILL)
  die_after   serve, then exit with code 4 after FAKE_VLLM_DIE_AFTER_S seconds

FAKE_VLLM_PIDFILE, if set, gets one line "<server pid> <helper pid>" per start.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--served-model-name", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args, extra = parser.parse_known_args()
    mode = os.environ.get("FAKE_VLLM_MODE", "ok")
    print(f"fake vllm: model={args.model} port={args.port} extra={extra} mode={mode}", flush=True)

    if mode == "exit":
        print("fake vllm: loading model", flush=True)
        print("RuntimeError: fake engine refuses to start", file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    if mode != "stubborn":
        # Like vLLM: on SIGTERM the API server shuts its engine core down itself
        # (what matters when only the server is signalled, e.g. PR_SET_PDEATHSIG).
        def shut_down(signum: int, frame: object) -> None:
            helper.terminate()
            helper.wait(5)
            os._exit(0)

        signal.signal(signal.SIGTERM, shut_down)
    pidfile = os.environ.get("FAKE_VLLM_PIDFILE")
    if pidfile:
        with open(pidfile, "a") as fh:
            fh.write(f"{os.getpid()} {helper.pid}\n")

    if mode == "hang":
        time.sleep(3600)
    if mode == "die_after":
        delay = float(os.environ.get("FAKE_VLLM_DIE_AFTER_S", "0.5"))
        threading.Timer(delay, lambda: os._exit(4)).start()

    served = args.served_model_name

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                body = b""
            elif self.path == "/v1/models":
                body = json.dumps({"object": "list", "data": [{"id": served, "object": "model"}]}).encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            print("fake vllm: " + format % args, flush=True)

    ThreadingHTTPServer((args.host, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
