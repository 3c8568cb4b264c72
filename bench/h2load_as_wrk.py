#!/usr/bin/env python3
"""Rewrites an h2load run as the lines of wrk's output that report.py reads:
h2load_as_wrk.py H2LOAD_STDOUT H2LOAD_LOG_FILE > wrk-like.txt

h2load prints no percentiles; its --log-file has one line per request (start, status, duration in
µs), from which the median and p99 come."""
import re, sys

stdout, log = open(sys.argv[1]).read(), sys.argv[2]
durations, non_2xx = [], 0
for line in open(log):
    parts = line.split()
    if len(parts) >= 3:
        durations.append(int(parts[2]))
        non_2xx += not parts[1].startswith("2")
durations.sort()

def pct(p):
    return f"{durations[min(len(durations) - 1, int(len(durations) * p))] / 1000:.2f}ms" if durations else "nan"

m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", stdout)
seconds, rps = (m.group(1), m.group(2)) if m else ("0", "0")
m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout",
              stdout)
succeeded, failed = (int(m.group(1)), sum(int(x) for x in m.groups()[1:])) if m else (0, 0)
print(f"  Latency Distribution\n     50%   {pct(0.50)}\n     99%   {pct(0.99)}")
print(f"  {succeeded} requests in {seconds}s")
print(f"  Socket errors: connect 0, read {failed}, write 0, timeout 0")
if non_2xx:
    print(f"  Non-2xx or 3xx responses: {non_2xx}")
print(f"Requests/sec: {rps}")
