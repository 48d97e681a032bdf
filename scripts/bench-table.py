#!/usr/bin/env python3
"""Reads the key=value lines of bench_tcp, lwip_bench, bench_mem, bench_tap and tap_ceiling
(scripts/run-bench.sh collects them) and prints ONE table: benchmark, ustack, baseline, ratio,
target, met?. Throughput/rate figures are the *_cpu medians (work over the process's CPU time),
because wall-clock on the shared 2-core machine is noisy; the wall-clock medians are in the raw
lines above the table."""
import sys


def parse(path):
    rows = []
    for line in open(path):
        w = line.split()
        if not w or w[0] not in ("ustack", "lwip", "ceiling", "kernel"):
            continue
        d = {"who": w[0]}
        for t in w[1:]:
            if "=" in t:
                k, v = t.split("=", 1)
                d[k] = v
            else:
                d[t] = True
        rows.append(d)
    return rows


def find(rows, who, **kv):
    for r in rows:
        if r["who"] == who and all(k in r and r[k] == str(v) for k, v in kv.items()):
            return r
    return None


def num(r, k):
    try:
        return float(r[k]) if r and k in r else None
    except ValueError:
        return None


out = []


def row(name, u, b, unit, target=None, ratio_min=None, note=""):
    ratio = u / b if (u is not None and b) else None
    met = "-"
    if ratio_min is not None and ratio is not None:
        met = "yes" if ratio >= ratio_min else "NO"
    fmt = lambda v: "n/a" if v is None else (f"{v:.3g} {unit}" if v < 1000 else f"{v:,.0f} {unit}")
    out.append((name, fmt(u), fmt(b) if b is not None else "-",
                f"{ratio:.2f}x" if ratio is not None else "-", target or "-", met, note))


CONC_ONLY = sys.argv[1] == "--conc"
rows = parse(sys.argv[-1])


def median(v):
    v = sorted(x for x in v if x is not None)
    return v[len(v) // 2] if v else None


def paired(name, u, b, scale, unit, tgt, rmin, note=""):
    """One row from two lists of figures taken in alternation (run-bench.sh runs ustack, then
    its baseline, RUNS times): the medians of each, and as the ratio the median of the ratios
    of runs taken one right after the other, so the machine's drift between them cancels."""
    pairs = [x / y for x, y in zip(u, b) if x and y]
    um, bm = median(u), median(b)
    row(name, um * scale if um else None, bm * scale if bm else None, unit, tgt, rmin,
        note + (("; " if note else "") + f"median of {len(pairs)} paired ratios"
                if len(pairs) > 1 else ""))
    if pairs:  # the ratio and the verdict come from the pairs
        r = median(pairs)
        n, uu, bb, _, t, _, nt = out[-1]
        out[-1] = (n, uu, bb, f"{r:.2f}x", t, ("yes" if r >= rmin else "NO") if rmin else "-", nt)


def lines(who, mtu, key, **kv):
    return [r for r in rows if r["who"] == who and r.get("mtu") == str(mtu) and key in r
            and all(r.get(k) == str(v) for k, v in kv.items())]


for mtu in (1500, 9000):
    f = lambda who, key: [num(r, key + "_cpu") for r in lines(who, mtu, key)]
    paired(f"bulk 1 conn, MTU {mtu} (vs lwIP)", f("ustack", "bulk_gbps"), f("lwip", "bulk_gbps"), 1,
           "Gb/s", ">=2x lwIP", 2.0, "lwIP MSS capped at 1460" if mtu == 9000 else "")
    paired(f"rr 1 B each way, MTU {mtu} (vs lwIP)", f("ustack", "rr_mps"), f("lwip", "rr_mps"), 1e6,
           "/s", ">=1.5x lwIP", 1.5)
    sizes = sorted({int(r["conns"]) for r in lines("ustack", mtu, "conn_kps", close="graceful")})
    med = {}
    for n in sizes:
        uc = lines("ustack", mtu, "conn_kps", close="graceful", conns=n)
        lc = lines("lwip", mtu, "conn_kps", close="graceful", conns=n)
        note = ""
        us = next((r for r in uc if r.get("stop", "none") != "none"), None)
        ls = next((r for r in lc if r.get("stop", "none") != "none"), None)
        if us:
            note += f"ustack stopped at {us.get('completed')}: {us['stop']}; "
        if ls:
            note += f"lwIP stopped at {ls.get('completed')} ({ls['stop']})"
        u = [num(r, "conn_kps_cpu") for r in uc]
        b = [num(r, "conn_kps_cpu") for r in lc]
        med[n] = (median(u), median(b), us, ls)
        paired(f"conn+graceful close x{n:,}, MTU {mtu}", u, b, 1e3, "/s", "report", None, note)
    if sizes:
        a, z = med[sizes[0]], med[sizes[-1]]
        flat = z[0] / a[0]
        lf = z[1] / a[1] if a[1] and z[1] else None
        ok = flat >= 0.8 and not z[2]
        out.append((f"conn rate {sizes[-1]:,} / {sizes[0]:,}, MTU {mtu}", f"{flat:.2f}",
                    f"{lf:.2f}" if lf else "-", "-", ">=0.80 (flat)", "yes" if ok else "NO",
                    "medians; lwIP: " + ("ports ran out" if z[3] else "")))

m = next((r for r in rows if r["who"] == "ustack" and "bytes_per_conn" in r), None)
if m:
    bpc = num(m, "bytes_per_conn")
    out.append(("bytes per idle established conn", f"{bpc:.0f} B", "-", "-", "<=512 B",
                "yes" if bpc <= 512 else "NO",
                f"mallinfo2 growth/{int(m['established_client']) + int(m['accepted']):,} conns; sizeof={m['sizeof_conn']}"))
    fit = num(m, "fit_1gib")
    out.append(("connections in 1 GiB (extrapolated)", f"{fit:,.0f}", "-", "-", ">=1,000,000",
                "yes" if fit >= 1e6 else "NO",
                f"opened {int(m['established_client']):,} pairs in sim, stop={m.get('stop')}"))

# The service loop with idle connections (bench_tcp --only idle): lower is better, flat is the
# target. The figures and ratios are those bench_tcp printed (medians of its paired runs).
for r in (r for r in rows if r["who"] == "ustack" and "rr_cpu_ratio" in r):
    n = int(r["idle"])
    rr0, rr1, rat = num(r, "rr_cpu_ns_idle0"), num(r, "rr_cpu_ns_idle"), num(r, "rr_cpu_ratio")
    lp0, lp1, lrat = num(r, "loop_ns_idle0"), num(r, "loop_ns_idle"), num(r, "loop_ratio")
    out.append((f"rr through the services loop, {n:,} idle conns (vs none)", f"{rr1:.0f} ns",
                f"{rr0:.0f} ns", f"{rat:.2f}x", "<=1.10x (flat)", "yes" if rat <= 1.1 else "NO",
                f"CPU ns per transaction, two stacks; {r['runs']} paired runs"))
    out.append((f"services loop iteration, {n:,} idle conns (vs none)", f"{lp1:.0f} ns",
                f"{lp0:.0f} ns", f"{lrat:.2f}x", "<=1.10x (flat)", "yes" if lrat <= 1.1 else "NO",
                f"wall ns; a loop polling every socket: {num(r, 'scan_ns_idle'):,.0f} ns"))


def tap_runs(who, key, vnet):
    """The figures of `key` from the TAP lines of `who`, in run order."""
    if who == "ustack":
        tag = "tap_vnet" if vnet else "tap"
        sel = [r for r in rows if r["who"] == "ustack" and tag in r and key in r]
    else:
        sel = [r for r in rows if r["who"] == "ceiling" and r.get("vnet") == ("1" if vnet else "0")
               and key in r]
    return [num(r, key) for r in sel]


def tap_row(name, key, vnet, scale, unit, tgt, rmin, note):
    paired(name, tap_runs("ustack", key, vnet), tap_runs("ceiling", key, vnet), scale, unit, tgt,
           rmin, note)


# TAP rows use wall-clock figures: the kernel side's work is not in ustack's CPU time. The
# baselines are tap_ceiling, a program with no TCP stack on the same TAP, one per direction:
# ustack sending is measured against its minimal sender (tx_gbps: handshake, then full-MSS
# segments, or TSO super-frames with vnet, as fast as the kernel's window allows), ustack
# receiving against its stateless reflector (rx_gbps: one read and one ACK per frame).
for vnet, tgt, rmin, note in ((False, ">=0.9x ceiling", 0.9, "wall; MTU 1500, no offload"),
                              (True, ">=0.8x ceiling", 0.8,
                               "wall; IFF_VNET_HDR: GSO in, TSO + csum offload out")):
    sfx = " (vnet)" if vnet else ""
    tap_row(f"TAP bulk ustack->Linux{sfx} (vs sender ceiling)", "tx_gbps", vnet, 1, "Gb/s",
            tgt, rmin, note)
    tap_row(f"TAP bulk Linux->ustack{sfx} (vs receiver ceiling)", "rx_gbps", vnet, 1, "Gb/s",
            tgt, rmin, note)
tap_row("TAP rr 1 B, Linux client (vs reflector)", "rr_kps", False, 1e3, "/s", "report", None,
        "wall")


# `ustack run` (bench/run_ustack_run.sh): unmodified programs whose sockets live in the daemon
# (TAP, --vnet), against the same programs kernel-to-kernel over a veth pair; wall-clock.
def run_runs(who, key):
    return [num(r, key) for r in rows if r["who"] == who and key in r]


for key, name, scale, unit, tgt, rmin, note in (
        ("run_bulk_gbps", "ustack run iperf3 -c, TAP vnet (vs kernel veth)", 1, "Gb/s",
         ">=0.8x kernel", 0.8, "wall; 1 stream"),
        ("run_rr_tps", "ustack run rr 1 B (vs kernel veth)", 1, "/s", ">=0.5x kernel", 0.5,
         "wall; bench/rr_conn, 1 conn"),
        ("run_conn_ps", "ustack run connect+1 B rr+close (vs kernel veth)", 1, "/s",
         ">=0.5x kernel", 0.5, "wall; bench/rr_conn, in series")):
    if run_runs("ustack", key):
        paired(name, run_runs("ustack", key), run_runs("kernel", key), scale, unit, tgt, rmin,
               note)
    # CPU time per operation of every process on each path: the work, apart from scheduling.
    # Lower is better, so the ratio is kernel / ustack, as for the throughput rows.
    ck = key.rsplit("_", 1)[0] + "_cpu_us"
    uc, kc = run_runs("ustack", ck), run_runs("kernel", ck)
    if uc and kc:
        pairs = [k / u for u, k in zip(uc, kc) if u and k]
        out.append((name.replace(" (vs", ", CPU per op (vs"), f"{median(uc):.1f} us",
                    f"{median(kc):.1f} us", f"{median(pairs):.2f}x" if pairs else "-", "report",
                    "-", "all processes on the path; ratio kernel/ustack"))



def table(title, hdr, body):
    w = [max(len(str(r[i])) for r in body + [hdr]) for i in range(len(hdr))]
    print()
    print(title)
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(hdr)).rstrip())
    print("  ".join("-" * w[i] for i in range(len(hdr))))
    for r in body:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())


# Concurrent downloads (bench/run_concurrent.sh): wrk against ustack's HTTP server over the TAP
# and against nginx on the kernel over veth, in turn; one row per mode x file size x N. The
# req/s ratio is the median of the paired ratios (>= 0.8 is the target), the p99 ratio likewise
# (<= 1.5); TAP drops and RTOs are totals over the row's runs (0 is the target), retransmissions
# per 10,000 segments the sum over the sum of segments on the wire (< 1 is the target); dup segs
# are the retransmissions the kernel reported as duplicates (spurious). The server's CPU share
# and its time runnable but waiting for a CPU (percent of the run) say how much of the machine
# it had; nginx's share leaves out the kernel's softirq work for its sends.
def conc_table():
    body = []
    keys = []
    for r in rows:
        if "conc" in r and r["who"] == "ustack":
            k = (r["mode"], r["size"], r["conns"])
            if k not in keys:
                keys.append(k)
    for mode, size, n in keys:
        sel = lambda who: [r for r in rows if r["who"] == who and "conc" in r and r["mode"] == mode
                           and r["size"] == size and r["conns"] == n]
        u, k = sel("ustack"), sel("kernel")
        col = lambda rs, key: [num(r, key) if r.get("ok") == "1" else None for r in rs]
        urps, krps = col(u, "rps"), col(k, "rps")
        up50, kp50, up99, kp99 = col(u, "p50_ms"), col(k, "p50_ms"), col(u, "p99_ms"), col(k, "p99_ms")
        rr = median([a / b for a, b in zip(urps, krps) if a and b])
        pr = median([a / b for a, b in zip(up99, kp99) if a and b])
        tot = lambda rs, key: sum(int(r.get(key, 0)) for r in rs)
        drops, rtos = tot(u, "tap_kernel_drops"), tot(u, "tcp_rto")
        segs, rtx = tot(u, "wire_segs"), tot(u, "tcp_retrans")
        per10k = rtx * 1e4 / segs if segs else None
        fails = sum(1 for r in u + k if r.get("ok") != "1")
        met = (rr is not None and rr >= 0.8 and pr is not None and pr <= 1.5 and drops == 0
               and rtos == 0 and per10k is not None and per10k < 1 and not fails)
        f = lambda v, fmt: "n/a" if v is None else format(v, fmt)
        body.append((mode, size, n, f(median(urps), ",.0f"), f(median(krps), ",.0f"),
                     f(rr, ".2f"), f(median(up50), ".2f") + " / " + f(median(kp50), ".2f"),
                     f(median(up99), ".2f") + " / " + f(median(kp99), ".2f"), f(pr, ".2f"),
                     "yes" if met else "NO", drops, rtos, f(per10k, ".2f"),
                     tot(u, "dsack_dups"),
                     f(median(col(u, "server_cpu_pct")), ".0f") + " / " +
                     f(median(col(k, "server_cpu_pct")), ".0f"),
                     f(median(col(u, "server_wait_pct")), ".0f") + " / " +
                     f(median(col(k, "server_wait_pct")), ".0f"),
                     (f"{fails} failed runs; " if fails else "") +
                     f"{len(u)} runs; kernel rtx/10k " +
                     f(tot(k, "tcp_retrans") * 1e4 / tot(k, "wire_segs") if tot(k, "wire_segs")
                       else None, ".2f") + f" ({tot(k, 'tcp_tlp_probes')} TLP)"))
    if body:
        table("Concurrent downloads: wrk against ustack (TAP) and nginx (kernel, veth); medians,"
              " ratios are medians of paired runs; targets: req/s ratio >= 0.8, p99 ratio <= 1.5,"
              " no TAP drops, no RTO, retrans < 1 per 10k segments",
              ("mode", "file", "N", "req/s us", "req/s kern", "ratio", "p50 ms us/kern",
               "p99 ms us/kern", "p99 ratio", "met?", "TAP drops", "RTOs", "rtx/10k segs",
               "dup segs", "srv CPU% us/kern", "srv wait% us/kern", "notes"), body)


if not CONC_ONLY:
    table("TCP benchmarks (medians; in-memory rows use CPU-time figures, TAP rows wall-clock)",
          ("benchmark", "ustack", "baseline", "ratio", "target", "met?", "notes"), out)
conc_table()


# Loss recovery (bench/run_bridge_loss.sh): "bridge who=ustack|linux profile=..." lines, the
# same bytes from ustack and from Linux to the same Linux receiver through `ustack bridge` with
# the same profile and seeds. Times are wall-clock; lower is better, so the ratio is ustack's
# median time over Linux's, the target at most 1.1x. RTOs and retransmitted segments are
# summed over the runs, ustack's beside Linux's.
loss = []
for line in ([] if CONC_ONLY else open(sys.argv[-1])):
    w = line.split()
    if len(w) > 1 and w[0] == "bridge":
        loss.append(dict(t.split("=", 1) for t in w[1:] if "=" in t))
LOSS_NAMES = {"clean": "no impairment", "loss1": "1% loss", "loss5": "5% loss",
              "reorder": "2% early, 10 ms delay", "delay": "10 ms delay", "blackout": "10 ms blackout every 1 s"}
if loss:
    profs = []
    for r in loss:
        if r.get("profile") not in profs:
            profs.append(r.get("profile"))
    lout = []
    for p in profs:
        def runs(who):
            return [r for r in loss if r.get("who") == who and r.get("profile") == p]

        def secs(rs):  # a failed run counts as infinitely slow
            return [float(r["secs"]) if r.get("secs", "fail") != "fail" else float("inf")
                    for r in rs]

        def tot(rs, k):
            return sum(int(r.get(k, 0)) for r in rs)

        u, k = runs("ustack"), runs("linux")
        um, km = median(secs(u)), median(secs(k))
        ratio = um / km if (um is not None and km) else None
        mb = int(u[0]["bytes"]) / 1048576 if u else 0
        met = "-" if ratio is None else ("yes" if ratio <= 1.1 else "NO")
        fails = sum(1 for x in secs(u) + secs(k) if x == float("inf"))
        lout.append((f"{mb:.0f} MiB, {LOSS_NAMES.get(p, p)}", f"{um:.2f} s" if um else "n/a",
                     f"{km:.2f} s" if km else "n/a",
                     f"{ratio:.2f}x" if ratio is not None else "-", "<= 1.1x", met,
                     f"{tot(u, 'rto')} / {tot(k, 'rto')}",
                     f"{tot(u, 'retrans')} / {tot(k, 'retrans')}",
                     f"{len(u)}+{len(k)} runs, Linux {k[0].get('cc', '?') if k else '-'}" +
                     (f", {fails} failed" if fails else "")))
    hdr = ("profile (ustack->Linux vs Linux->Linux)", "ustack", "Linux", "ratio", "target",
           "met?", "RTOs u / L", "retrans u / L", "notes")
    w = [max(len(str(r[i])) for r in lout + [hdr]) for i in range(len(hdr))]
    print()
    print("Loss recovery through ustack bridge (median transfer time, wall-clock; RTOs and "
          "retransmitted segments summed over the runs)")
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(hdr)).rstrip())
    print("  ".join("-" * w[i] for i in range(len(hdr))))
    for r in lout:
        print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())
