// Command-line and INI options shared by every Floodgate app.
//
// Apps follow DPDK's convention: `app [EAL options] -- [app options]`. Each
// app declares the options it takes as a table of `option` rows (name, takes
// a value, help, handler); parse() applies an INI file first (`--config FILE`:
// one section, `[floodgate]`, whose keys are the long option names, e.g.
// `ip = 198.18.0.2/24`; a key may repeat where the option may) and then the
// command line, so the command line wins. Everything lands in plain structs a
// test can build without EAL. Errors are messages naming the option.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/stack.hh"
#include "route/addr.hh"

namespace fg::apps {

struct option {
    std::string name;     // long name without "--"
    bool has_value;       // takes an argument
    std::string help;     // one line; the value's form first, e.g. "ADDR/PLEN  an address of ours"
    std::function<bool(std::string_view value, std::string& error)> apply;
};

// Options of every app: port, addresses, routes, timing, output.
struct common_options {
    std::string port = "0";          // ethdev port id or name (e.g. net_tap0)
    std::vector<route::addr_range> ips;
    uint32_t gateway = 0;            // host order
    std::vector<core::static_neigh> static_arp;
    uint16_t mtu = 1500;
    double duration_s = 0;           // 0: until SIGINT/SIGTERM
    double stats_interval_s = 1;     // per-second stats line; 0: none
    double drain_s = 3;              // at stop: wait this long at most for closing connections and TIME-WAIT
    uint32_t time_wait_ms = 0;       // TIME-WAIT length of the connections we close first; 0: the stack's (60000)
    std::string json_path;           // final counters as one JSON object
    std::vector<uint32_t> resolve;   // neighbours to resolve by ARP (reported in the JSON)
    std::string pcap_path;           // --pcap: pcapng capture of what the lcores receive and send
    uint32_t pcap_snaplen = 65535;   // bytes kept of each frame
    double pcap_max_mb = 0;          // file size bound; 0: none
    std::vector<unsigned> pcap_lcores; // EAL lcore ids to capture on; empty: all
    bool help = false;
    bool version = false;
    bool list_counters = false;
};

// Rows for common_options, to be extended by each app.
std::vector<option> common_option_rows(common_options& o);

// The app's part of argv: what follows "--" (nothing if there is no "--").
std::vector<std::string> app_args(int argc, char** argv);

// A row for a whole-number option in [lo, hi] stored by `set`.
option u64_option(std::string name, std::string help, uint64_t lo, uint64_t hi,
                  std::function<void(uint64_t)> set);

// Parses `args` (the app's part of argv, after "--"), honouring --config.
bool parse(const std::vector<option>& rows, const std::vector<std::string>& args, std::string& error);

// Help text listing every row.
std::string usage(const std::string& app, const std::string& what, const std::vector<option>& rows);

// The start of every app's main(): parses the app's part of argv; prints
// --help or --version. Returns -1 to go on, else the exit status (0 after
// --help / --version, 2 with a message on stderr for a bad option).
int parse_args(const std::string& app, const std::string& what, const std::vector<option>& rows, const bool& help,
               const bool& version, int argc, char** argv);
int parse_args(const std::string& app, const std::string& what, const std::vector<option>& rows,
               const common_options& co, int argc, char** argv);

// Every counter of the registry (core/counters.hh), one line each: its key in
// reports and telemetry, its block, what it counts.
std::string counter_list();

// Two ports wired back to back in one process (apps::runtime::port_pair):
// memory rings, or virtio_user <-> net_vhost over a vhost-user socket.
enum class pair_kind { ring, vhost };
bool parse_pair_kind(std::string_view v, pair_kind& out, std::string& error);
const char* pair_kind_name(pair_kind k);

// Options every end-to-end benchmark (bench/e2e) takes.
struct bench_options {
    double seconds = 5;             // length of each measured part
    pair_kind ports = pair_kind::ring; // --ports
    std::string json;               // results as one JSON object
    bool help = false;
    bool version = false;
};
std::vector<option> bench_option_rows(bench_options& o);

// A list of whole numbers and ranges, e.g. "0,2-3" (EAL lcore ids).
bool parse_id_list(std::string_view v, unsigned max, std::vector<unsigned>& out, std::string& error);

// Value parsers with option-named errors.
bool parse_u64(std::string_view v, uint64_t lo, uint64_t hi, uint64_t& out, std::string& error);
bool parse_double(std::string_view v, double lo, double hi, double& out, std::string& error);
bool parse_mac(std::string_view v, rte_ether_addr& out, std::string& error);
bool parse_port_list(std::string_view v, std::vector<uint16_t>& out, std::string& error);

// Resolves `port` (a number or an ethdev name) to a port id. Needs EAL.
bool resolve_port(const std::string& port, uint16_t& port_id, std::string& error);

} // namespace fg::apps
