# The PyTorch side of a benchmark run (bench/harness.ts, TorchWorker): imports torch once, then
# answers one JSON request per stdin line with one JSON line on stdout:
#   {"op": "exec", "code": C, "input": I}  runs C in a fresh namespace holding torch, time, INPUT
#       (= I), DEVICE (I["device"], default cpu), sync() and STEPS; C registers the callables to
#       time as STEPS[name] = fn and may set RESULT -> {"result": RESULT}
#   {"op": "time", "step": S, "reps": R}   runs STEPS[S] R times, then sync(), timed with
#       perf_counter -> {"seconds": total, "value": the last call's value where JSON can hold it}
# A failing request answers {"error": traceback}; the worker keeps serving.
import json
import os
import sys
import time
import traceback

protocol = sys.stdout
sys.stdout = sys.stderr  # a print in the benchmark's code must not corrupt the protocol


def reply(obj):
    protocol.write(json.dumps(obj) + "\n")
    protocol.flush()


try:
    import torch
except ImportError as e:
    reply({"ready": False, "why": f"cannot import torch ({e})"})
    sys.exit(0)

torch.set_num_threads(2)
STEPS = {}


def sync():
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def serve(request):
    op = request["op"]
    if op == "exec":
        inp = request.get("input", {})
        device = inp.get("device", "cpu") if isinstance(inp, dict) else "cpu"
        ns = {"torch": torch, "time": time, "json": json, "INPUT": inp, "STEPS": STEPS,
              "DEVICE": torch.device(device), "sync": sync, "__name__": "bench"}
        exec(compile(request["code"], request.get("name", "<bench>"), "exec"), ns)
        return {"result": ns.get("RESULT")}
    if op == "time":
        fn, reps = STEPS[request["step"]], request.get("reps", 1)
        value = None
        t0 = time.perf_counter()
        for _ in range(reps):
            value = fn()
        sync()
        seconds = time.perf_counter() - t0
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            value = None
        return {"seconds": seconds, "value": value}
    raise ValueError(f"unknown op {op!r}")


reply({"ready": True, "torch": torch.__version__, "cuda": torch.cuda.is_available(),
       "threads": torch.get_num_threads(), "pid": os.getpid()})
for line in sys.stdin:
    try:
        reply(serve(json.loads(line)))
    except Exception:
        reply({"error": traceback.format_exc()[-4000:]})
