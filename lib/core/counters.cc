#include "core/counters.hh"

namespace fg::core {

namespace {
#define FG_X(name, desc) #name,
constexpr const char* loop_names[] = {FG_FOREACH_CORE_COUNTER(FG_X)};
constexpr const char* drop_names[] = {FG_FOREACH_NET_DROP(FG_X)};
constexpr const char* tcp_names[] = {FG_FOREACH_TCP_COUNTER(FG_X)};
constexpr const char* neigh_names[] = {FG_FOREACH_NEIGH_COUNTER(FG_X)};
constexpr const char* table_names[] = {FG_CONN_TABLE_COUNTERS(FG_X)};
constexpr const char* gen_names[] = {FG_FOREACH_GEN_COUNTER(FG_X)};
#undef FG_X
#define FG_X(name, desc) desc,
constexpr const char* loop_descs[] = {FG_FOREACH_CORE_COUNTER(FG_X)};
constexpr const char* drop_descs[] = {FG_FOREACH_NET_DROP(FG_X)};
constexpr const char* tcp_descs[] = {FG_FOREACH_TCP_COUNTER(FG_X)};
constexpr const char* neigh_descs[] = {FG_FOREACH_NEIGH_COUNTER(FG_X)};
constexpr const char* table_descs[] = {FG_CONN_TABLE_COUNTERS(FG_X)};
constexpr const char* gen_descs[] = {FG_FOREACH_GEN_COUNTER(FG_X)};
#undef FG_X

constexpr unsigned off_drops = n_core_counters;
constexpr unsigned off_tcp = off_drops + net::n_drops;
constexpr unsigned off_neigh = off_tcp + tcp::n_counters;
constexpr unsigned off_table = off_neigh + n_neigh_counters;
constexpr unsigned off_gen = off_table + n_table_counters;

constexpr std::array<block_info, n_blocks> g_blocks = {{
    {"loop", "", true, n_core_counters, 0, loop_names, loop_descs},
    {"drops", "drop_", false, net::n_drops, off_drops, drop_names, drop_descs},
    {"tcp", "", true, tcp::n_counters, off_tcp, tcp_names, tcp_descs},
    {"neigh", "neigh_", false, n_neigh_counters, off_neigh, neigh_names, neigh_descs},
    {"table", "table_", false, n_table_counters, off_table, table_names, table_descs},
    {"gen", "gen_", false, gen::n_counters, off_gen, gen_names, gen_descs},
}};
static_assert(off_gen + gen::n_counters == n_all_counters);
} // namespace

const std::array<block_info, n_blocks>& blocks() { return g_blocks; }

std::string flat_key(const block_info& b, unsigned i) { return std::string(b.prefix) + b.names[i]; }

const char* ctr_name(ctr c) { return unsigned(c) < n_core_counters ? loop_names[unsigned(c)] : "unknown"; }

const char* ctr_desc(ctr c) { return unsigned(c) < n_core_counters ? loop_descs[unsigned(c)] : "unknown"; }

} // namespace fg::core
