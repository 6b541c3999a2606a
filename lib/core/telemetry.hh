// rte_telemetry endpoints, so DPDK's own dpdk-telemetry.py reads Floodgate:
//   /floodgate/stacks            names of the running stacks
//   /floodgate/stats,<stack>     every counter of the stack, summed over lcores
//   /floodgate/lcore,<stack>:<i> the counters of one lcore
// The counters are the stack's counter registry (core/counters.hh) under
// their flat keys ("syn_received", "drop_bad_ip_cksum", "neigh_requests", ...).
// Counters are read relaxed while the lcores run: each is exact, the set is a
// near-instant snapshot.
#pragma once

#include <functional>
#include <string>

#include "core/stack.hh"

namespace fg::core {

// Extra counters a layer above the stack (an app's own) adds to
// its stack's telemetry dict: called with an adder(name, value).
using counter_source = std::function<void(const std::function<void(const char*, uint64_t)>& add, int lcore_idx)>;

void telemetry_register(stack* st, counter_source extra = nullptr);
void telemetry_unregister(stack* st);

} // namespace fg::core
