#!/usr/bin/python3
"""Evaluate every query of pg_prom's monitoring kit against a live Prometheus.

Usage: monitoring_check.py MONITORING_DIR PROMETHEUS_URL [SERVER_MAJOR]

Reads monitoring/prometheus/alerts.yml, monitoring/prometheus/alerts_test.yml
and monitoring/grafana/dashboards/*.json, and prints one TAP-style line per
check ("ok - ..." or "not ok - ...: why") for 012_monitoring.pl to count:

  - every alert has a unit test where it fires and one where it does not;
  - every dashboard query and template variable, with the variables set to
    "All", returns at least one series without error (a panel whose
    description says "PostgreSQL N+" only has to evaluate when the server
    scraped, SERVER_MAJOR, is older);
  - every alert and recording rule expression returns at least one series,
    its comparisons turned into "bool" comparisons so that a healthy
    server (where nothing fires) still shows the expression finds data.
"""
import glob
import json
import re
import sys
import time
import urllib.parse
import urllib.request

import yaml

COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def neutralise(expr):
    """Add bool to every comparison operator outside label matchers."""
    out = []
    i = 0
    depth = 0
    quote = None
    while i < len(expr):
        c = expr[i]
        if quote:
            out.append(c)
            if c == "\\" and i + 1 < len(expr):
                out.append(expr[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
            i += 1
            continue
        if c in "\"'`":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0:
            for op in COMPARISONS:
                if expr.startswith(op, i) and not expr.startswith("=~", i):
                    rest = expr[i + len(op):]
                    out.append(op)
                    if not re.match(r"\s*bool\b", rest):
                        out.append(" bool")
                    i += len(op)
                    break
            else:
                out.append(c)
                i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def dashboard_expr(expr):
    """A Grafana query with its variables set the way "All" sets them."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s")
    expr = expr.replace("$__range", "5m")
    return re.sub(r"\$\{?(cluster|instance|datname)\}?", ".*", expr)


def variable_expr(query):
    m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query)
    if not m:
        return None
    return "count by (%s) (%s)" % (m.group(2), dashboard_expr(m.group(1)))


def query(url, expr):
    data = urllib.parse.urlencode({"query": expr}).encode()
    try:
        with urllib.request.urlopen(url + "/api/v1/query", data, timeout=30) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:
        return None, "HTTP %d: %s" % (e.code, e.read().decode(errors="replace")[:300])
    if body.get("status") != "success":
        return None, body.get("error", "no status")
    return body["data"]["result"], None


def main():
    kit, url = sys.argv[1], sys.argv[2].rstrip("/")
    major = int(sys.argv[3]) if len(sys.argv) > 3 else 99
    # "native": Prometheus runs with native histograms, so that only the
    # panels that say they need them must have data (the classic buckets are
    # not ingested then); otherwise those panels must only evaluate
    native = len(sys.argv) > 4 and sys.argv[4] == "native"
    lines = []

    def check(ok, what, why=""):
        lines.append(("ok - " if ok else "not ok - ") + what + ("" if ok else ": " + why))

    rules = yaml.safe_load(open(kit + "/prometheus/alerts.yml"))
    tests = yaml.safe_load(open(kit + "/prometheus/alerts_test.yml"))
    firing, quiet = set(), set()
    for t in tests["tests"]:
        for a in t.get("alert_rule_test", []):
            (firing if a["exp_alerts"] else quiet).add(a["alertname"])

    exprs = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                name = rule["alert"]
                check(name in firing, "alert %s has a unit test where it fires" % name, "none")
                check(name in quiet, "alert %s has a unit test where it stays quiet" % name, "none")
                for key in ("summary", "description", "runbook"):
                    check(key in rule.get("annotations", {}),
                          "alert %s has a %s" % (name, key), "missing")
                exprs.append(("alert " + name, neutralise(rule["expr"]), not native))
            else:
                exprs.append(("rule " + rule["record"], rule["expr"], not native))

    for path in sorted(glob.glob(kit + "/grafana/dashboards/*.json")):
        dash = json.load(open(path))
        for var in dash["templating"]["list"]:
            if var["type"] != "query":
                continue
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            e = variable_expr(q)
            check(e is not None, "variable %s is a label_values() query" % var["name"], q)
            if e:
                exprs.append(("variable " + var["name"], e, True))
        panels = []
        for p in dash["panels"]:
            panels.append(p)
            panels.extend(p.get("panels", []))
        for p in panels:
            m = re.search(r"PostgreSQL (\d+)\+", p.get("description") or "")
            needs = int(m.group(1)) if m else 0
            is_native = "native-histograms" in (p.get("description") or "")
            for t in p.get("targets", []):
                what = "panel '%s' %s" % (p["title"], t["refId"])
                if needs > major:
                    what += " (PostgreSQL %d+: no data expected on %d)" % (needs, major)
                if is_native != native:
                    what += " (data only with%s native histograms)" % ("" if is_native else "out")
                exprs.append((what, dashboard_expr(t["expr"]),
                              needs <= major and is_native == native))

    # A rate needs two scrapes after the workload, and a scrape on a loaded
    # machine may fail: a query that must have data and has none is asked
    # again every second, for at most 30 seconds over the whole run.
    retry_until = None
    for what, expr, want_data in exprs:
        result, err = query(url, expr)
        while want_data and not err and not result:
            if retry_until is None:
                retry_until = time.monotonic() + 30
            if time.monotonic() >= retry_until:
                break
            time.sleep(1)
            result, err = query(url, expr)
        if err:
            check(False, what + " evaluates", err + " in: " + expr)
        elif want_data:
            check(len(result) > 0, what + " returns data", "no series for: " + expr)
        else:
            check(True, what + " evaluates")

    print("\n".join(lines))


if __name__ == "__main__":
    main()
