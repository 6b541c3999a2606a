#include "core/telemetry.hh"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include <rte_telemetry.h>

namespace fg::core {

namespace {
struct registered {
    stack* st;
    counter_source extra;
};
std::mutex g_mu;
std::vector<registered> g_stacks;
bool g_cmds = false;

const registered* find(const char* name)
{
    for (const auto& r : g_stacks) {
        if (name != nullptr && r.st->config().name == name) {
            return &r;
        }
    }
    return g_stacks.size() == 1 && (name == nullptr || *name == 0) ? &g_stacks[0] : nullptr;
}

void fill(const registered& r, int idx, rte_tel_data* d)
{
    rte_tel_data_start_dict(d);
    auto add = [&](const char* k, uint64_t v) { rte_tel_data_add_dict_u64(d, k, v); };
    r.st->counters(idx).visit(
        [&](const block_info& b, unsigned i, uint64_t v) { add(flat_key(b, i).c_str(), v); });
    if (r.extra) {
        r.extra(add, idx);
    }
}

int cmd_stacks(const char*, const char*, rte_tel_data* d)
{
    std::lock_guard<std::mutex> g(g_mu);
    rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
    for (const auto& r : g_stacks) {
        rte_tel_data_add_array_string(d, r.st->config().name.c_str());
    }
    return 0;
}

int cmd_stats(const char*, const char* params, rte_tel_data* d)
{
    std::lock_guard<std::mutex> g(g_mu);
    const registered* r = find(params);
    if (r == nullptr) {
        return -EINVAL;
    }
    fill(*r, -1, d);
    return 0;
}

int cmd_lcore(const char*, const char* params, rte_tel_data* d)
{
    std::lock_guard<std::mutex> g(g_mu);
    if (params == nullptr) {
        return -EINVAL;
    }
    std::string p(params);
    std::string name;
    int idx = 0;
    const std::size_t colon = p.rfind(':');
    if (colon == std::string::npos) {
        idx = std::atoi(p.c_str());
    } else {
        name = p.substr(0, colon);
        idx = std::atoi(p.c_str() + colon + 1);
    }
    const registered* r = find(name.c_str());
    if (r == nullptr || idx < 0 || idx >= r->st->n_lcores()) {
        return -EINVAL;
    }
    fill(*r, idx, d);
    return 0;
}
} // namespace

void telemetry_register(stack* st, counter_source extra)
{
    std::lock_guard<std::mutex> g(g_mu);
    g_stacks.push_back({st, std::move(extra)});
    if (!g_cmds) {
        g_cmds = true;
        rte_telemetry_register_cmd("/floodgate/stacks", cmd_stacks, "Names of the Floodgate stacks. No parameters");
        rte_telemetry_register_cmd("/floodgate/stats", cmd_stats,
                                   "Counters of a stack, summed over its lcores. Parameters: stack name (optional "
                                   "when there is one stack)");
        rte_telemetry_register_cmd("/floodgate/lcore", cmd_lcore,
                                   "Counters of one lcore. Parameters: [stack:]lcore index");
    }
}

void telemetry_unregister(stack* st)
{
    std::lock_guard<std::mutex> g(g_mu);
    for (auto it = g_stacks.begin(); it != g_stacks.end(); ++it) {
        if (it->st == st) {
            g_stacks.erase(it);
            return;
        }
    }
}

} // namespace fg::core
