#include "common/options.hh"

#include <cstdio>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include <rte_cfgfile.h>
#include <rte_ethdev.h>

#include "common/report.hh"
#include "core/counters.hh"

namespace fg::apps {

bool parse_u64(std::string_view v, uint64_t lo, uint64_t hi, uint64_t& out, std::string& error)
{
    uint64_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
        error = "'" + std::string(v) + "' is not a whole number";
        return false;
    }
    if (x < lo || x > hi) {
        error = std::string(v) + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return false;
    }
    out = x;
    return true;
}

bool parse_double(std::string_view v, double lo, double hi, double& out, std::string& error)
{
    std::string s(v);
    char* end = nullptr;
    const double x = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) {
        error = "'" + s + "' is not a number";
        return false;
    }
    if (!(x >= lo && x <= hi)) {
        error = s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
        return false;
    }
    out = x;
    return true;
}

bool parse_mac(std::string_view v, rte_ether_addr& out, std::string& error)
{
    std::string s(v);
    if (rte_ether_unformat_addr(s.c_str(), &out) != 0) {
        error = "'" + s + "' is not a MAC address (xx:xx:xx:xx:xx:xx)";
        return false;
    }
    return true;
}

bool parse_port_list(std::string_view v, std::vector<uint16_t>& out, std::string& error)
{
    out.clear();
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        std::string_view item = v.substr(0, comma);
        uint64_t p = 0;
        if (!parse_u64(item, 1, 65535, p, error)) {
            error = "port list: " + error;
            return false;
        }
        out.push_back(uint16_t(p));
        if (comma == std::string_view::npos) {
            break;
        }
        v.remove_prefix(comma + 1);
    }
    if (out.empty()) {
        error = "port list is empty";
        return false;
    }
    return true;
}

std::vector<std::string> app_args(int argc, char** argv)
{
    std::vector<std::string> out;
    bool after = false;
    for (int i = 1; i < argc; i++) {
        if (after) {
            out.emplace_back(argv[i]);
        } else if (std::string_view(argv[i]) == "--") {
            after = true;
        }
    }
    return out;
}

option u64_option(std::string name, std::string help, uint64_t lo, uint64_t hi, std::function<void(uint64_t)> set)
{
    return {std::move(name), true, std::move(help), [lo, hi, set = std::move(set)](std::string_view v, std::string& e) {
                uint64_t x = 0;
                if (!parse_u64(v, lo, hi, x, e)) {
                    return false;
                }
                set(x);
                return true;
            }};
}

std::vector<option> common_option_rows(common_options& o)
{
    std::vector<option> r;
    r.push_back({"port", true, "ID|NAME  ethdev port id or name (net_tap0, 0000:01:00.0); default 0",
                 [&o](std::string_view v, std::string&) {
                     o.port = std::string(v);
                     return true;
                 }});
    r.push_back({"ip", true, "ADDR/PLEN or FIRST-LAST/PLEN  an address (range) of ours; repeatable",
                 [&o](std::string_view v, std::string& e) {
                     route::addr_range a;
                     if (!route::parse_addr(v, a, e)) {
                         return false;
                     }
                     o.ips.push_back(a);
                     return true;
                 }});
    r.push_back({"gw", true, "ADDR  default gateway", [&o](std::string_view v, std::string& e) {
                     return route::parse_ipv4(v, o.gateway, e);
                 }});
    r.push_back({"arp", true, "ADDR=MAC  static neighbour entry; repeatable", [&o](std::string_view v, std::string& e) {
                     const std::size_t eq = v.find('=');
                     if (eq == std::string_view::npos) {
                         e = "expected ADDR=MAC";
                         return false;
                     }
                     core::static_neigh s;
                     if (!route::parse_ipv4(v.substr(0, eq), s.ip, e) || !parse_mac(v.substr(eq + 1), s.mac, e)) {
                         return false;
                     }
                     o.static_arp.push_back(s);
                     return true;
                 }});
    r.push_back({"resolve", true, "ADDR  keep resolving this neighbour by ARP; its MAC goes into the JSON; repeatable",
                 [&o](std::string_view v, std::string& e) {
                     uint32_t a;
                     if (!route::parse_ipv4(v, a, e)) {
                         return false;
                     }
                     o.resolve.push_back(a);
                     return true;
                 }});
    r.push_back(u64_option("mtu", "BYTES  port MTU (576..9000); default 1500", 576, 9000,
                           [&o](uint64_t x) { o.mtu = uint16_t(x); }));
    r.push_back({"duration", true, "SECONDS  stop after this long; default: until SIGINT/SIGTERM",
                 [&o](std::string_view v, std::string& e) { return parse_double(v, 0, 1e9, o.duration_s, e); }});
    r.push_back({"stats-interval", true, "SECONDS  period of the stats line; 0: none; default 1",
                 [&o](std::string_view v, std::string& e) { return parse_double(v, 0, 3600, o.stats_interval_s, e); }});
    r.push_back({"drain", true, "SECONDS  at stop, wait this long at most for connections to finish closing and "
                                "TIME-WAIT to expire (what is left is dropped at exit); default 3",
                 [&o](std::string_view v, std::string& e) { return parse_double(v, 0, 3600, o.drain_s, e); }});
    r.push_back(u64_option("time-wait-ms", "MS  TIME-WAIT length of the connections we close first; default 60000", 1,
                           3600000, [&o](uint64_t x) { o.time_wait_ms = uint32_t(x); }));
    r.push_back({"json", true, "FILE  write the final counters as one JSON object", [&o](std::string_view v, std::string&) {
                     o.json_path = std::string(v);
                     return true;
                 }});
    r.push_back({"pcap", true, "FILE  write a pcapng capture of what the lcores receive and send (tshark, Wireshark)",
                 [&o](std::string_view v, std::string& e) {
                     if (v.empty()) {
                         e = "needs a file name";
                         return false;
                     }
                     o.pcap_path = std::string(v);
                     return true;
                 }});
    r.push_back(u64_option("pcap-snaplen", "BYTES  bytes kept of each captured frame; default 65535", 14, 65535,
                           [&o](uint64_t x) { o.pcap_snaplen = uint32_t(x); }));
    r.push_back({"pcap-max-mb", true, "MB  stop writing the capture at this size (frames beyond it are counted); default: no bound",
                 [&o](std::string_view v, std::string& e) { return parse_double(v, 0.001, 1e7, o.pcap_max_mb, e); }});
    r.push_back({"pcap-lcores", true, "LIST  EAL lcores whose queues are captured, e.g. 0,2-3; default all",
                 [&o](std::string_view v, std::string& e) { return parse_id_list(v, RTE_MAX_LCORE - 1, o.pcap_lcores, e); }});
    r.push_back({"list-counters", false, "print every counter (report and telemetry key, what it counts) and exit",
                 [&o](std::string_view, std::string&) {
                     o.list_counters = true;
                     return true;
                 }});
    r.push_back({"version", false, "print the version and exit", [&o](std::string_view, std::string&) {
                     o.version = true;
                     return true;
                 }});
    r.push_back({"help", false, "this text", [&o](std::string_view, std::string&) {
                     o.help = true;
                     return true;
                 }});
    return r;
}

namespace {
const option* find_row(const std::vector<option>& rows, std::string_view name)
{
    for (const auto& r : rows) {
        if (r.name == name) {
            return &r;
        }
    }
    return nullptr;
}

bool apply_one(const std::vector<option>& rows, std::string_view name, const std::string* value, bool from_ini,
               std::string& error)
{
    const option* row = find_row(rows, name);
    if (row == nullptr) {
        error = std::string(from_ini ? "config file: unknown key '" : "unknown option '--") + std::string(name) +
                "' (see --help)";
        return false;
    }
    if (row->has_value && value == nullptr) {
        error = "option --" + row->name + " needs a value";
        return false;
    }
    if (!row->has_value && value != nullptr && !from_ini) {
        error = "option --" + row->name + " takes no value";
        return false;
    }
    std::string e;
    if (!row->apply(value != nullptr ? std::string_view(*value) : std::string_view(), e)) {
        error = "--" + row->name + ": " + e;
        return false;
    }
    return true;
}

bool apply_ini(const std::vector<option>& rows, const std::string& path, std::string& error)
{
    rte_cfgfile* cf = rte_cfgfile_load(path.c_str(), 0);
    if (cf == nullptr) {
        error = "cannot read config file " + path;
        return false;
    }
    bool ok = true;
    const char* sec = "floodgate";
    if (!rte_cfgfile_has_section(cf, sec)) {
        error = "config file " + path + ": no [floodgate] section";
        ok = false;
    } else {
        const int n = rte_cfgfile_section_num_entries(cf, sec);
        std::vector<rte_cfgfile_entry> entries(n > 0 ? std::size_t(n) : 0);
        if (n > 0) {
            rte_cfgfile_section_entries(cf, sec, entries.data(), n);
        }
        for (const auto& en : entries) {
            const std::string v = en.value;
            const option* row = find_row(rows, en.name);
            if (row != nullptr && !row->has_value) {
                if (v == "1" || v == "true" || v == "yes") {
                    ok = apply_one(rows, en.name, nullptr, true, error);
                } else {
                    ok = true;
                }
            } else {
                ok = apply_one(rows, en.name, &v, true, error);
            }
            if (!ok) {
                error = path + ": " + error;
                break;
            }
        }
    }
    rte_cfgfile_close(cf);
    return ok;
}
} // namespace

bool parse(const std::vector<option>& rows, const std::vector<std::string>& args, std::string& error)
{
    // --config first, wherever it stands.
    for (std::size_t i = 0; i < args.size(); i++) {
        std::string_view a = args[i];
        if (a == "--config" || a.rfind("--config=", 0) == 0) {
            std::string path;
            if (a == "--config") {
                if (i + 1 >= args.size()) {
                    error = "option --config needs a value";
                    return false;
                }
                path = args[i + 1];
            } else {
                path = std::string(a.substr(9));
            }
            if (!apply_ini(rows, path, error)) {
                return false;
            }
        }
    }
    for (std::size_t i = 0; i < args.size(); i++) {
        std::string_view a = args[i];
        if (a.rfind("--", 0) != 0 || a.size() == 2) {
            error = "unexpected argument '" + std::string(a) + "' (options are --name [value])";
            return false;
        }
        a.remove_prefix(2);
        std::string value;
        bool has = false;
        const std::size_t eq = a.find('=');
        std::string_view name = a.substr(0, eq);
        if (eq != std::string_view::npos) {
            value = std::string(a.substr(eq + 1));
            has = true;
        }
        if (name == "config") {
            if (!has) {
                i++;
            }
            continue;
        }
        const option* row = find_row(rows, name);
        if (row != nullptr && row->has_value && !has) {
            if (i + 1 >= args.size()) {
                error = "option --" + std::string(name) + " needs a value";
                return false;
            }
            value = args[++i];
            has = true;
        }
        if (!apply_one(rows, name, has ? &value : nullptr, false, error)) {
            return false;
        }
    }
    return true;
}

std::string usage(const std::string& app, const std::string& what, const std::vector<option>& rows)
{
    std::string s = "usage: " + app + " [EAL options] -- [options]\n" + what + "\n\noptions:\n";
    s += "  --config FILE  read options from an INI file ([floodgate] section, keys = option names)\n";
    for (const auto& r : rows) {
        s += "  --" + r.name + (r.has_value ? " " : "  ") + r.help + "\n";
    }
    return s;
}

bool parse_id_list(std::string_view v, unsigned max, std::vector<unsigned>& out, std::string& error)
{
    out.clear();
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        const std::string_view item = v.substr(0, comma);
        const std::size_t dash = item.find('-');
        uint64_t a = 0;
        uint64_t b = 0;
        if (!parse_u64(item.substr(0, dash), 0, max, a, error) ||
            (dash != std::string_view::npos && !parse_u64(item.substr(dash + 1), 0, max, b, error))) {
            return false;
        }
        if (dash == std::string_view::npos) {
            b = a;
        }
        if (a > b) {
            error = "range " + std::string(item) + " runs backwards";
            return false;
        }
        for (uint64_t x = a; x <= b; x++) {
            out.push_back(unsigned(x));
        }
        if (comma == std::string_view::npos) {
            break;
        }
        v.remove_prefix(comma + 1);
    }
    if (out.empty()) {
        error = "empty list";
        return false;
    }
    return true;
}

int parse_args(const std::string& app, const std::string& what, const std::vector<option>& rows, const bool& help,
               const bool& version, int argc, char** argv)
{
    // `app --help` / `app --version` without "--": EAL would take them as its own.
    bool dashes = false;
    for (int i = 1; i < argc; i++) {
        dashes = dashes || std::string_view(argv[i]) == "--";
    }
    if (!dashes) {
        for (int i = 1; i < argc; i++) {
            const std::string_view a = argv[i];
            if (a == "--help" || a == "-h") {
                std::printf("%s", usage(app, what, rows).c_str());
                return 0;
            }
            if (a == "--version") {
                std::printf("%s %s\n", app.c_str(), apps::version());
                return 0;
            }
        }
    }
    std::string err;
    if (!parse(rows, app_args(argc, argv), err)) {
        std::fprintf(stderr, "%s: %s\n", app.c_str(), err.c_str());
        return 2;
    }
    if (help) {
        std::printf("%s", usage(app, what, rows).c_str());
        return 0;
    }
    if (version) {
        std::printf("%s %s\n", app.c_str(), apps::version());
        return 0;
    }
    return -1;
}

bool parse_pair_kind(std::string_view v, pair_kind& out, std::string& error)
{
    if (v == "ring") {
        out = pair_kind::ring;
    } else if (v == "vhost") {
        out = pair_kind::vhost;
    } else {
        error = "expected ring or vhost";
        return false;
    }
    return true;
}

const char* pair_kind_name(pair_kind k) { return k == pair_kind::ring ? "ring pair" : "virtio_user <-> net_vhost pair"; }

std::vector<option> bench_option_rows(bench_options& o)
{
    std::vector<option> r;
    r.push_back({"seconds", true, "S  length of each measured part; default " + std::to_string(int(o.seconds)),
                 [&o](std::string_view v, std::string& e) { return parse_double(v, 1, 3600, o.seconds, e); }});
    r.push_back({"ports", true, "ring|vhost  the ports the two sides talk over: a ring pair (default) or a "
                               "virtio_user <-> net_vhost pair (virtio offloads, in this process)",
                 [&o](std::string_view v, std::string& e) { return parse_pair_kind(v, o.ports, e); }});
    r.push_back({"json", true, "FILE  results as one JSON object", [&o](std::string_view v, std::string&) {
                     o.json = std::string(v);
                     return true;
                 }});
    r.push_back({"version", false, "print the version and exit", [&o](std::string_view, std::string&) {
                     o.version = true;
                     return true;
                 }});
    r.push_back({"help", false, "this text", [&o](std::string_view, std::string&) {
                     o.help = true;
                     return true;
                 }});
    return r;
}

std::string counter_list()
{
    std::string out;
    for (const core::block_info& b : core::blocks()) {
        for (unsigned i = 0; i < b.n; i++) {
            const std::string key = b.flat ? core::flat_key(b, i) : std::string(b.name) + "/" + b.names[i];
            char line[512];
            std::snprintf(line, sizeof(line), "%-36s %-6s %s\n", key.c_str(), b.name, b.descs[i]);
            out += line;
        }
    }
    return out;
}

int parse_args(const std::string& app, const std::string& what, const std::vector<option>& rows,
               const common_options& co, int argc, char** argv)
{
    bool listed_without_dashes = false;
    bool dashes = false;
    for (int i = 1; i < argc; i++) {
        dashes = dashes || std::string_view(argv[i]) == "--";
        listed_without_dashes = listed_without_dashes || (!dashes && std::string_view(argv[i]) == "--list-counters");
    }
    const int rc = listed_without_dashes && !dashes ? -1 : parse_args(app, what, rows, co.help, co.version, argc, argv);
    if (rc < 0 && (co.list_counters || (listed_without_dashes && !dashes))) {
        std::printf("# counter (report key; telemetry: the same, or drop_/neigh_/table_/gen_ + name) block  what it counts\n%s",
                    counter_list().c_str());
        return 0;
    }
    return rc;
}

bool resolve_port(const std::string& port, uint16_t& port_id, std::string& error)
{
    uint64_t id = 0;
    std::string e;
    if (parse_u64(port, 0, RTE_MAX_ETHPORTS - 1, id, e)) {
        if (!rte_eth_dev_is_valid_port(uint16_t(id))) {
            error = "port " + port + " does not exist (" + std::to_string(rte_eth_dev_count_avail()) +
                    " port(s) available; add one with --vdev or a PCI device)";
            return false;
        }
        port_id = uint16_t(id);
        return true;
    }
    if (rte_eth_dev_get_port_by_name(port.c_str(), &port_id) != 0) {
        error = "no port named '" + port + "'";
        return false;
    }
    return true;
}

} // namespace fg::apps
