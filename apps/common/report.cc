#include "common/report.hh"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "fg_version.hh"

namespace fg::apps {

void json_object::key(const std::string& k)
{
    if (std::find(_keys.begin(), _keys.end(), k) != _keys.end()) {
        // Two writers of one key: a bug. Keep the JSON valid and say so.
        std::fprintf(stderr, "report: key '%s' written twice (kept the first)\n", k.c_str());
    }
    _keys.push_back(k);
    if (!_body.empty()) {
        _body += ",";
    }
    _body += "\"" + k + "\":";
}

void json_object::add(const std::string& k, uint64_t v)
{
    key(k);
    _body += std::to_string(v);
}

void json_object::add(const std::string& k, double v)
{
    key(k);
    if (!std::isfinite(v)) {
        _body += "null";
        return;
    }
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    _body += buf;
}

void json_object::add(const std::string& k, const std::string& v)
{
    key(k);
    _body += "\"";
    for (char ch : v) {
        if (ch == '"' || ch == '\\') {
            _body += '\\';
            _body += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof(esc), "\\u%04x", unsigned(ch));
            _body += esc;
        } else {
            _body += ch;
        }
    }
    _body += "\"";
}

void json_object::add_bool(const std::string& k, bool v)
{
    key(k);
    _body += v ? "true" : "false";
}

void json_object::add_raw(const std::string& k, const std::string& json)
{
    key(k);
    _body += json;
}

bool json_object::write(const std::string& path, std::string& error) const
{
    std::ofstream f(path);
    if (!f) {
        error = "cannot write " + path;
        return false;
    }
    f << str() << "\n";
    f.close();
    if (!f) {
        error = "cannot write " + path;
        return false;
    }
    return true;
}

namespace {
bool is_unsupported(net::drop d)
{
    return d == net::drop::unknown_ethertype || d == net::drop::unknown_l4 || d == net::drop::icmp_unhandled;
}
} // namespace

uint64_t dropped_unsupported(const core::counter_set& s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < net::n_drops; i++) {
        n += is_unsupported(net::drop(i)) ? s[net::drop(i)] : 0;
    }
    return n;
}

uint64_t dropped_malformed(const core::counter_set& s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < net::n_drops; i++) {
        n += is_unsupported(net::drop(i)) ? 0 : s[net::drop(i)];
    }
    return n;
}

void add_counters(json_object& j, const core::counter_set& s)
{
    for (const core::block_info& b : core::blocks()) {
        if (b.flat) {
            for (unsigned i = 0; i < b.n; i++) {
                j.add(core::flat_key(b, i), s.v[b.offset + i]);
            }
        } else {
            json_object o;
            for (unsigned i = 0; i < b.n; i++) {
                o.add(b.names[i], s.v[b.offset + i]);
            }
            j.add_raw(b.name, o.str());
        }
    }
    j.add("dropped_malformed", dropped_malformed(s));
    j.add("dropped_unsupported", dropped_unsupported(s));
}

void add_resolved(json_object& j, const core::stack& st, const std::vector<uint32_t>& addrs)
{
    json_object r;
    for (uint32_t a : addrs) {
        const auto v = st.neighbour(0, a);
        std::string mac;
        if (v && v->state != route::neigh_state::incomplete && v->state != route::neigh_state::failed &&
            v->state != route::neigh_state::free) {
            char buf[RTE_ETHER_ADDR_FMT_SIZE];
            rte_ether_format_addr(buf, sizeof(buf), &v->mac);
            mac = buf;
        }
        r.add(route::format_ipv4(a), mac);
    }
    j.add_raw("resolved", r.str());
}

tcp::rtt_histogram histogram_since(const tcp::rtt_histogram& now, const tcp::rtt_histogram& before)
{
    tcp::rtt_histogram d;
    int first = -1;
    int last = -1;
    for (uint32_t i = 0; i < tcp::rtt_histogram::n_buckets; i++) {
        const uint64_t c = now.counts[i] >= before.counts[i] ? now.counts[i] - before.counts[i] : 0;
        d.counts[i] = c;
        d.n += c;
        if (c != 0) {
            first = first < 0 ? int(i) : first;
            last = int(i);
        }
    }
    d.sum_us = now.sum_us >= before.sum_us ? now.sum_us - before.sum_us : 0;
    if (first >= 0) {
        d.min_us = std::max(tcp::rtt_histogram::bucket_low(uint32_t(first)), now.min());
        d.max_seen_us = std::min(tcp::rtt_histogram::bucket_high(uint32_t(last)), now.max());
        d.min_us = std::min(d.min_us, d.max_seen_us);
    }
    return d;
}

void add_pools(json_object& j, const core::stack::pool_census& start, const core::stack::pool_census& end)
{
    auto one = [](const core::stack::pool_census& p) {
        json_object o;
        o.add("conns", p.conns);
        o.add("table_entries", p.table_entries);
        o.add("timers", p.timers);
        o.add("gen_in_flight", p.gen_in_flight);
        o.add("mbufs_available", p.mbufs_available);
        return o.str();
    };
    json_object o;
    o.add_raw("start", one(start));
    o.add_raw("end", one(end));
    j.add_raw("pools", o.str());
}

std::string rtt_json(const tcp::rtt_histogram& h)
{
    json_object o;
    o.add("n", h.count());
    o.add("p50", uint64_t(h.percentile(50)));
    o.add("p99", uint64_t(h.percentile(99)));
    o.add("p999", uint64_t(h.percentile(99.9)));
    return o.str();
}

std::string series::str() const
{
    std::string s = "[";
    for (std::size_t i = 0; i < _samples.size(); i++) {
        s += (i != 0 ? "," : "") + _samples[i];
    }
    return s + "]";
}

json_object server_sample(double t, double dt, const core::counter_set& d, const core::stack& st)
{
    dt = dt > 0 ? dt : 1;
    json_object o;
    o.add("t", t);
    o.add("syn_per_s", double(d[tcp::ctr::syn_received]) / dt);
    o.add("synack_per_s", double(d[tcp::ctr::synack_sent]) / dt);
    o.add("cookies_sent_per_s", double(d[tcp::ctr::cookies_sent]) / dt);
    o.add("cookies_accepted_per_s", double(d[tcp::ctr::cookies_accepted]) / dt);
    o.add("accepted_per_s", double(d[tcp::ctr::accepted]) / dt);
    o.add("rst_sent_per_s", double(d[tcp::ctr::rst_sent]) / dt);
    uint64_t drops = dropped_malformed(d) + d[core::ctr::tx_dropped] + d[core::ctr::redirect_dropped];
    for (tcp::ctr c : {tcp::ctr::syn_queue_overflows, tcp::ctr::syn_accept_queue_full, tcp::ctr::accept_queue_overflows,
                       tcp::ctr::pool_exhausted, tcp::ctr::table_full}) {
        drops += d[c];
    }
    o.add("drops_per_s", double(drops) / dt);
    o.add("rx_pps", double(d[core::ctr::rx_packets]) / dt);
    o.add("connections_in_use", st.conns_in_use());
    return o;
}

std::string fmt_rate(double r)
{
    char b[32];
    if (r >= 1e6) {
        std::snprintf(b, sizeof(b), "%.2fM", r / 1e6);
    } else if (r >= 1e3) {
        std::snprintf(b, sizeof(b), "%.1fk", r / 1e3);
    } else {
        std::snprintf(b, sizeof(b), "%.0f", r);
    }
    return b;
}

const char* version() { return FG_VERSION; }

} // namespace fg::apps
