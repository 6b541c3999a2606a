// fg-server: an accepting server on Floodgate, and the example of the
// application API. Brings up one port, answers ARP and ping.
//
//   fg-server [EAL options] -- --ip 198.18.0.2/24 [--gw ADDR] [--duration S] [--json FILE]
#include <cstdio>
#include <string>
#include <vector>

#include <rte_eal.h>

#include "common/options.hh"
#include "common/runtime.hh"
#include "core/telemetry.hh"
#include "eal.hh"
#include "port.hh"

using namespace fg;

int main(int argc, char** argv)
{
    apps::common_options co;
    std::vector<apps::option> rows = apps::common_option_rows(co);
    const std::string what = "An accepting server on Floodgate: answers ARP and ICMP echo on its addresses.";

    // App options are those after "--" (or all of them when there is no EAL part).
    std::vector<std::string> app_args;
    bool after = false;
    for (int i = 1; i < argc; i++) {
        if (after) {
            app_args.emplace_back(argv[i]);
        } else if (std::string(argv[i]) == "--") {
            after = true;
        }
    }
    std::string err;
    if (!apps::parse(rows, app_args, err)) {
        std::fprintf(stderr, "fg-server: %s\n", err.c_str());
        return 2;
    }
    if (co.help) {
        std::printf("%s", apps::usage("fg-server", what, rows).c_str());
        return 0;
    }
    if (co.ips.empty()) {
        std::fprintf(stderr, "fg-server: give at least one --ip ADDR/PLEN (see --help)\n");
        return 2;
    }
    glue::eal_result eal = glue::eal_start(argc, argv);
    if (!eal.ok) {
        std::fprintf(stderr, "fg-server: %s\n", eal.error.c_str());
        return 1;
    }
    apps::install_signal_handlers();
    core::stack_config sc;
    sc.name = "server";
    if (!apps::resolve_port(co.port, sc.port_id, err)) {
        std::fprintf(stderr, "fg-server: %s\n", err.c_str());
        return 1;
    }
    apps::apply_common(sc, co);
    std::unique_ptr<core::stack> st = core::stack::create(sc, err);
    if (!st) {
        std::fprintf(stderr, "fg-server: %s\n", err.c_str());
        return 1;
    }
    core::telemetry_register(st.get());
    std::printf("fg-server: port %u mac %02x:%02x:%02x:%02x:%02x:%02x, %u lcore(s), %s\n", sc.port_id,
                st->mac().addr_bytes[0], st->mac().addr_bytes[1], st->mac().addr_bytes[2], st->mac().addr_bytes[3],
                st->mac().addr_bytes[4], st->mac().addr_bytes[5], st->n_lcores(),
                eal.hugepages ? "hugepages" : "no hugepages");
    std::fflush(stdout);

    apps::run_options ro;
    ro.duration_s = co.duration_s;
    ro.stats_interval_s = co.stats_interval_s;
    uint64_t last_rx = 0;
    uint64_t last_tx = 0;
    ro.stats_line = [&](double t, double iv) {
        const uint64_t rx = st->core_total(core::ctr::rx_packets);
        const uint64_t tx = st->core_total(core::ctr::tx_packets);
        char buf[256];
        std::snprintf(buf, sizeof(buf), "[fg-server %6.1fs] rx %.0f pps tx %.0f pps | arp %lu replies %lu | icmp %lu",
                      t, double(rx - last_rx) / iv, double(tx - last_tx) / iv,
                      (unsigned long)st->core_total(core::ctr::arp_in),
                      (unsigned long)st->core_total(core::ctr::arp_replies_sent),
                      (unsigned long)st->core_total(core::ctr::icmp_echo_replies));
        last_rx = rx;
        last_tx = tx;
        return std::string(buf);
    };
    const double elapsed = apps::run({st.get()}, ro);

    if (!co.json_path.empty()) {
        apps::json_object j;
        j.add("app", std::string("fg-server"));
        j.add("elapsed_s", elapsed);
        apps::add_stack_counters(j, *st);
        apps::add_resolved(j, *st, co.resolve);
        if (!j.write(co.json_path, err)) {
            std::fprintf(stderr, "fg-server: %s\n", err.c_str());
        }
    }
    core::telemetry_unregister(st.get());
    glue::port_stop(sc.port_id);
    st.reset();
    glue::eal_stop();
    return 0;
}
