// The Linux kernel's per-core cost of a SYN-cookie SYN-ACK, for
// bench-e2e-synflood's baseline (the method of issue 8 and DESIGN.md 4).
//
// Set-up (root; everything in two network namespaces this process makes and
// removes on every path, addresses in 198.18.0.0/15 only):
//   fgsfc-<pid>  the blaster's side: veth end fgsfa<pid> (no address; a
//                netdev ingress rule drops whatever comes back at once)
//   fgsfs-<pid>  the kernel under test: veth end fgsfb<pid> with 198.18.0.2/16,
//                net.ipv4.tcp_syncookies=2 (a cookie for every SYN), and
//                198.19.0.0/16 routed via 198.18.0.1, a permanent neighbour
//                (no ARP for the 65536 sources).
// A blaster thread pinned to one CPU, inside fgsfc, sends SYNs with
// sendmmsg() on an AF_PACKET socket (PACKET_QDISC_BYPASS) -- the same frames
// as the Floodgate blaster (--flows distinct 4-tuples from 198.19.0.0/16 to
// 198.18.0.2:80, Linux options). veth_xmit() hands each frame to the
// receive path of the same CPU (netif_rx backlog), and the softirq that
// processes it -- IP, TCP, cookie, SYN-ACK, veth back to fgsfa, dropped there
// -- runs on that CPU, almost always in the blaster's own context at
// local_bh_enable().
//
// Two phases, the same blast each:
//   listen: a listener on 198.18.0.2:80 (backlog 65535); every SYN gets a
//           cookie SYN-ACK (checked: TcpExtSyncookiesSent grows by the SYNs
//           fgsfb received);
//   drop:   no listener, and a netdev ingress rule on fgsfb drops every frame
//           at once (before IP): what delivering a SYN costs, and nothing more.
// CPU time of each phase = the blaster thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID: the scheduler's exact runtime; this kernel has no
// IRQ time accounting, so softirqs served in the thread's context are in it)
// + the CPU time of ksoftirqd/<cpu> (/proc/<pid>/schedstat: softirq work the
// kernel deferred). Per SYN: that time / SYNs sent. The kernel's cost of one
// SYN-cookie SYN-ACK = per SYN (listen) - per SYN (drop); its rate per core
// is the inverse. CPU time, not wall time: the figure holds on a loaded
// machine. What it leaves out (so it flatters the kernel, never Floodgate):
// softirq work that happened to run in another task's context on that CPU
// (an interrupt or bh_enable of someone else), and the rx checksum the
// kernel verifies in software either way; veth's tx offload spares it the
// SYN-ACK's checksum (Floodgate on ring ports computes it).
#pragma once

#include <cstdint>
#include <string>

#include "e2e.hh"

namespace fg::e2e {

struct kernel_phase {
    bool ok = false;
    double wall_s = 0;        // measured window
    uint64_t sent = 0;        // SYNs the blaster sent (sendmmsg)
    uint64_t delivered = 0;   // frames fgsfb received (its rx_packets)
    uint64_t cookies = 0;     // TcpExtSyncookiesSent in fgsfs
    uint64_t synacks = 0;     // frames fgsfb sent (its tx_packets)
    uint64_t veth_drops = 0;  // frames veth dropped on the way in (fgsfb rx_dropped + fgsfa tx_dropped)
    double thread_cpu_s = 0;  // the blaster thread's CPU time
    double ksoftirqd_cpu_s = 0;
    double cpu_s() const { return thread_cpu_s + ksoftirqd_cpu_s; }
    double ns_per_syn() const { return sent > 0 ? cpu_s() * 1e9 / double(sent) : 0; }
};

struct kernel_synflood_result {
    bool ran = false;          // false: `why` says why the baseline was not measured
    std::string why;
    unsigned cpu = 0;          // the CPU the blaster was pinned to
    kernel_phase listen;
    kernel_phase drop;
    double ns_per_synack() const { return listen.ns_per_syn() - drop.ns_per_syn(); }
    double mpps_per_core() const { return ns_per_synack() > 0 ? 1e3 / ns_per_synack() : 0; }
    bool valid() const { return ran && listen.ok && drop.ok && ns_per_synack() > 0; }
};

struct kernel_synflood_config {
    double seconds = 5;      // measured window of each phase
    double warmup_s = 0.3;   // not measured: each phase's first moments
    uint32_t flows = 16384;  // distinct SYNs
    bool linux_options = true;
    unsigned cpu = 1;        // CPU the blaster thread is pinned to
};

// Runs both phases (prints a line a second and a summary per phase). Needs
// root and network namespaces; without them returns ran = false and why.
kernel_synflood_result run_kernel_synflood(const kernel_synflood_config& c);

} // namespace fg::e2e
