#!/usr/bin/env python3
"""The markdown report of one bench/run: report.py RUNS_TSV IDLE_TSV|- META_ENV > report.md"""
import csv, re, statistics, sys
runs_path, idle_path, meta_path = sys.argv[1:4]
meta = dict(line.rstrip("\n").split("=", 1) for line in open(meta_path) if "=" in line)
tick_us = 1e6 / int(meta["clk_tck"])
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}

def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNIT[m.group(2)] if m else float("nan")

def parse_wrk(path):
    text = open(path).read()
    r = {"requests": 0, "rps": 0.0, "p50": float("nan"), "p99": float("nan"), "errors": 0}
    m = re.search(r"(\d+) requests in", text)
    if m: r["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m: r["rps"] = float(m.group(1))
    m = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    if m: r["p50"] = ms(m.group(1))
    m = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    if m: r["p99"] = ms(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m: r["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m: r["errors"] += int(m.group(1))
    return r

runs = []
for row in csv.DictReader(open(runs_path), delimiter="\t"):
    w = parse_wrk(row["wrk_file"])
    row.update(w)
    n = max(w["requests"], 1)
    row["cpu_us"] = int(row["cpu_ticks"]) * tick_us / n
    row["sys_share"] = int(row["sys_ticks"]) / max(int(row["cpu_ticks"]), 1)
    row["backend_us"] = int(row["backend_ticks"]) * tick_us / n
    row["sweep"] = int(row["sweep"])
    runs.append(row)

CELL_ORDER = ["1k-ka", "1k-close", "64k-ka", "64k-close", "tls1k-ka", "tls1k-close", "uptls1k-ka", "h2c1k", "h2tls1k",
              "h2c64k", "h2tls64k", "grpc"]
TARGET_ORDER = ["direct", "nginx-ka", "haproxy", "nginx-nokeepalive", "keepgate", "keepgate-routes", "keepgate-log",
                "keepgate-b"]
CELL_NAME = {"1k-ka": "1 KiB, keep-alive clients", "1k-close": "1 KiB, close per request",
             "64k-ka": "64 KiB, keep-alive clients", "64k-close": "64 KiB, close per request",
             "tls1k-ka": "1 KiB over TLS, keep-alive clients", "tls1k-close": "1 KiB over TLS, new TLS connection per request",
             "uptls1k-ka": "1 KiB, TLS to the backend, keep-alive clients",
             "h2c1k": "1 KiB, HTTP/2 clients (h2c), many streams per connection",
             "h2tls1k": "1 KiB, HTTP/2 clients over TLS, many streams per connection",
             "h2c64k": "64 KiB, HTTP/2 clients (h2c), many streams per connection",
             "h2tls64k": "64 KiB, HTTP/2 clients over TLS, many streams per connection",
             "grpc": "gRPC unary calls (h2c both sides; direct = to the gRPC server itself)"}
cells = [c for c in CELL_ORDER if any(r["cell"] == c for r in runs)]
targets = [t for t in TARGET_ORDER if any(r["target"] == t for r in runs)]
by = {}
for r in runs:
    by.setdefault((r["cell"], r["target"]), []).append(r)

def ratios(cell, target):
    out = []
    for r in by.get((cell, target), []):
        base = [b for b in by.get((cell, "nginx-ka"), []) if b["sweep"] == r["sweep"]]
        if base and base[0]["cpu_us"] > 0 and r["requests"] > 0:
            out.append(r["cpu_us"] / base[0]["cpu_us"])
    return out

def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")

def spread(xs, fmt):
    return f"{fmt.format(min(xs))}–{fmt.format(max(xs))}" if xs else "–"

summary = {}
lines = []
lines.append("| cell | target | proxy CPU µs/req (kernel share) | ratio vs nginx-ka: median (min–max) | req/s | p50 ms | p99 ms "
             "| backend accepts/run (max) | proxy RSS MB | errors | backend CPU µs/req |")
lines.append("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for cell in cells:
    for target in targets:
        rs = by.get((cell, target), [])
        if not rs:
            continue
        rat = ratios(cell, target)
        s = {"cpu": med([r["cpu_us"] for r in rs]), "ratio": med(rat), "ratios": rat,
             "rps": med([r["rps"] for r in rs]), "p50": med([r["p50"] for r in rs]),
             "p99": med([r["p99"] for r in rs]), "accepts": max(int(r["accepts"]) for r in rs),
             "rss": med([int(r["rss_kb"]) / 1024 for r in rs]), "errors": sum(r["errors"] for r in rs),
             "backend": med([r["backend_us"] for r in rs]), "sys": med([r["sys_share"] for r in rs])}
        summary[(cell, target)] = s
        is_direct = target == "direct"
        cpu = "–" if is_direct else f"{s['cpu']:.1f} ({100 * s['sys']:.0f} % sys)"
        ratio = "–" if is_direct or not rat else f"**{s['ratio']:.2f}** ({spread(rat, '{:.2f}')})"
        rss = "–" if is_direct else f"{s['rss']:.0f}"
        lines.append(f"| {CELL_NAME[cell]} | {target} | {cpu} | {ratio} | {s['rps']:,.0f} | {s['p50']:.2f} "
                     f"| {s['p99']:.2f} | {s['accepts']} | {rss} | {s['errors']} | {s['backend']:.1f} |")
table = "\n".join(lines)

idle_lines, idle = [], {}
rows = list(csv.DictReader(open(idle_path), delimiter="\t")) if idle_path != "-" else []
if rows:
    idle_lines.append("| proxy | idle connections | resting RSS MB | RSS with connections MB | KB/connection (RSS) "
                      "| KB/connection (live Java heap) | **KB/connection** |")
    idle_lines.append("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        n = int(row["conns"])
        per = (int(row["loaded_rss_kb"]) - int(row["rest_rss_kb"])) * 1.024 / n  # KB (1000 bytes)
        heap, total = "–", per
        if row["rest_heap_kb"] not in ("-", "0") and row["loaded_heap_kb"] not in ("-", "0"):
            heap_kb = (int(row['loaded_heap_kb']) - int(row['rest_heap_kb'])) * 1.024 / n
            heap, total = f"{heap_kb:.2f}", per + heap_kb  # the pre-touched heap is resident already
        idle[row["target"]] = total
        idle_lines.append(f"| {row['target']} | {n:,} | {int(row['rest_rss_kb']) / 1024:.0f} "
                          f"| {int(row['loaded_rss_kb']) / 1024:.0f} | {per:.2f} | {heap} | **{total:.2f}** |")
idle_table = "\n".join(idle_lines)

checks = []
if "keepgate" in targets and "nginx-ka" in targets:
    for cell in cells:
        k, n = summary.get((cell, "keepgate")), summary.get((cell, "nginx-ka"))
        if not k or not n:
            continue
        checks.append(f"| {CELL_NAME[cell]} | {k['ratio']:.2f} {'✅' if k['ratio'] <= 1.0 else '❌'} "
                      f"| {k['accepts']} {'✅' if k['accepts'] <= 64 else '❌'} "
                      f"| {k['p99']:.2f} vs {n['p99']:.2f} {'✅' if k['p99'] <= n['p99'] + 1.0 else '❌'} |")
# keepgate-routes (1,000 routes, the match last) and keepgate-log (access log on) against keepgate in
# the same sweep: what routing and the access log cost per request
variants = []
for variant, what in [("keepgate-routes", "1,000 routes, the matching one last"), ("keepgate-log", "access log on")]:
    if variant not in targets or "keepgate" not in targets:
        continue
    for cell in cells:
        pairs = []
        for r in by.get((cell, variant), []):
            base = [b for b in by.get((cell, "keepgate"), []) if b["sweep"] == r["sweep"]]
            if base and base[0]["cpu_us"] > 0:
                pairs.append(r["cpu_us"] / base[0]["cpu_us"])
        if pairs:
            variants.append(f"| {what} | {CELL_NAME[cell]} | **{med(pairs):.2f}** ({spread(pairs, '{:.2f}')}) |")
variant_text = ""
if variants:
    variant_text = ("| keepgate variant | cell | CPU/request vs keepgate (1 route, no access log), same sweep |\n"
                    "|---|---|---|\n" + "\n".join(variants))

check_text = ""
if checks:
    check_text = ("| cell | CPU/request ratio ≤ 1.0 | backend accepts ≤ pool size (64) | p99 ≤ nginx-ka p99 + 1 ms |\n"
                  "|---|---|---|---|\n" + "\n".join(checks))
    if "keepgate" in idle:
        check_text += (f"\n\nIdle client connection (RSS + live heap): {idle['keepgate']:.2f} KB "
                       f"{'✅' if idle['keepgate'] <= 2.0 else '❌'} (target ≤ 2 KB)")

smoke = int(meta["duration"]) < 10 or int(meta["sweeps"]) < 3
out = []
out.append(f"# keepgate vs NGINX vs HAProxy: {meta['date'][:10]}")
out.append("")
if smoke:
    out.append(f"**Smoke run ({meta['duration']} s runs, {meta['sweeps']} sweep(s)): not representative.**")
    out.append("")
out.append(f"`bench/run`: {meta['sweeps']} sweeps × {meta['duration']} s per run, wrk -t1 -c{meta['conns']}; "
           f"proxy alone on core {meta['proxy_cpu']}, wrk and the backend (nginx, 1 worker) on core "
           f"{meta['load_cpu']}. Proxy CPU = utime+stime of all its processes and threads per request served. "
           "Ratios are taken within one sweep against nginx-ka (NGINX with upstream keepalive 64), then "
           "the median and min–max over sweeps. Latencies, req/s, RSS: medians over sweeps; backend accepts: "
           "the most TCP connections the backend accepted during one measured run.")
out.append("")
out.append(table)
out.append("")
if idle_table:
    out.append(f"Idle client connections (one keep-alive request each, then held open); KB = 1000 bytes:")
    out.append("")
    out.append(idle_table)
    out.append("")
if variant_text:
    out.append("What routing and the access log cost (1.00 = nothing):")
    out.append("")
    out.append(variant_text)
    out.append("")
uptls = [(t, summary[("uptls1k-ka", t)]) for t in targets if ("uptls1k-ka", t) in summary]
if uptls:
    out.append("TLS handshakes at the backend in the cell with TLS to the backend (each backend accept is "
               "one handshake; wrk keeps its 64 connections to the proxy):")
    out.append("")
    out.append("| proxy | backend TLS handshakes per second (most in one run / run length) | req/s |")
    out.append("|---|---:|---:|")
    for t, s in uptls:
        out.append(f"| {t} | {s['accepts'] / int(meta['duration']):,.1f} | {s['rps']:,.0f} |")
    out.append("")
if check_text:
    out.append("keepgate's targets:")
    out.append("")
    out.append(check_text)
    out.append("")
out.append("Environment:")
out.append("")
for key, label in [("date", "date (UTC)"), ("nproc", "nproc"), ("cpu", "CPU"), ("kernel", "kernel"),
                   ("memory", "memory"), ("nginx", "nginx"), ("haproxy", "HAProxy"), ("wrk", "wrk"),
                   ("java", "Java"), ("keepgate", "keepgate git rev"), ("jar", "keepgate jar"), ("java_opts", "keepgate JVM flags"),
                   ("warmup", "keepgate warmup"),
                   *([("jar_b", "keepgate-b jar"), ("java_opts_b", "keepgate-b JVM flags")] if meta.get("jar_b") else []), ("elapsed", "bench/run wall time (s)")]:
    out.append(f"- {label}: `{meta[key]}`")
print("\n".join(out))
