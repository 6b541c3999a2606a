// What the apps report: the --json file, the per-second series, the
// percentiles of handshake RTTs over an interval, and the exit status.
//
// A report is one JSON object (apps/report.schema.json says what is in it):
//   app, version, elapsed_s, exit {status, reason}
//   the counters of the app's stack from the counter registry
//     (core/counters.hh): loop and TCP counters at the top level, "drops",
//     "neigh" and "table" as objects, plus dropped_malformed /
//     dropped_unsupported
//   the app's own summary members (rtt_us_p50/p99/p999, ...)
//   "series": one object per second of the run (t, the rates of that second,
//     what was open at its end, RTT percentiles of that second)
// Keys never repeat: json_object refuses a key twice (a bug, caught by the
// schema test).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/counters.hh"
#include "core/stack.hh"
#include "tcp/rtt.hh"

namespace fg::apps {

// Minimal JSON object writer.
class json_object {
public:
    void add(const std::string& key, uint64_t v);
    void add(const std::string& key, double v); // non-finite values become null
    void add(const std::string& key, const std::string& v);
    void add(const std::string& key, const char* v) { add(key, std::string(v)); }
    void add_bool(const std::string& key, bool v);
    void add_raw(const std::string& key, const std::string& json);
    std::string str() const { return "{" + _body + "}"; }
    bool empty() const { return _body.empty(); }
    bool write(const std::string& path, std::string& error) const;

private:
    void key(const std::string& k);
    std::string _body;
    std::vector<std::string> _keys;
};

// Every counter of `s` as report members (see above).
void add_counters(json_object& j, const core::counter_set& s);

// Classifier drops that are frames we do not speak (IPv6, UDP, other ICMP,
// IP options), and all the other (malformed) ones.
uint64_t dropped_unsupported(const core::counter_set& s);
uint64_t dropped_malformed(const core::counter_set& s);

// "resolved": {"ADDR": "MAC" or ""} for each address, as lcore 0 knows it.
void add_resolved(json_object& j, const core::stack& st, const std::vector<uint32_t>& addrs);

// The report's `pools` object: the stack's pool census (core::stack::pools())
// before the lcores started and after they stopped (draining done), so a
// reader sees whether every connection block, table entry, timer and mbuf
// came back.
void add_pools(json_object& j, const core::stack::pool_census& start, const core::stack::pool_census& end);

// The samples of `now` that `before` did not have (counts subtracted bucket
// by bucket; min and max are those of the buckets): the RTTs of an interval.
tcp::rtt_histogram histogram_since(const tcp::rtt_histogram& now, const tcp::rtt_histogram& before);

// {"p50": .., "p99": .., "p999": .., "n": ..} of a histogram (microseconds).
std::string rtt_json(const tcp::rtt_histogram& h);

// JSON array of objects, one per second: the report's "series".
class series {
public:
    void add(const json_object& sample) { _samples.push_back(sample.str()); }
    std::size_t size() const { return _samples.size(); }
    std::string str() const;

private:
    std::vector<std::string> _samples;
};

// A server's second of the series: SYNs in, SYN-ACKs out, cookies,
// accepted, RSTs sent, drops (classifier + loop + TCP refusals) per second
// from the counter difference `d` over `dt` seconds, and what is open.
json_object server_sample(double t, double dt, const core::counter_set& d, const core::stack& st);

// "1.23M", "45.6k", "789".
std::string fmt_rate(double per_s);

// The version of this build: meson's project version and `git describe`.
const char* version();

} // namespace fg::apps
