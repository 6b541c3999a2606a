#include "port/allocator.hh"

#include <stdexcept>
#include <string>

namespace fg::port {

const char* to_string(tuple_state s)
{
    switch (s) {
#define FG_PORT_STATE_NAME(name, doc)                                                                               \
    case tuple_state::name:                                                                                         \
        return #name;
        FG_PORT_TUPLE_STATES(FG_PORT_STATE_NAME)
#undef FG_PORT_STATE_NAME
    }
    return "?";
}

namespace {

// Domain-separation tags: the perturbation table and the PRNG seed come from
// a key derived from the port key, never from the port key itself.
constexpr uint32_t tag_subkey = 0x70657274; // "pert"
constexpr uint32_t tag_table = 0x7461626c;  // "tabl"
constexpr uint32_t tag_seed = 0x73656564;   // "seed"

} // namespace

allocator::allocator(const config& cfg, const steering& steer, uint16_t my_lcore, const siphash_key& key)
    : _steer(steer), _key(key), _me(my_lcore), _perturb(perturb_size), _hint(cfg.remember_full_parity),
      _full(cfg.remember_full_parity ? perturb_size : 0)
{
    if (cfg.lo == 0) {
        throw std::invalid_argument("port range: lo must be >= 1 (port 0 is not a port)");
    }
    if (cfg.lo > cfg.hi) {
        throw std::invalid_argument("port range: lo " + std::to_string(cfg.lo) + " > hi " + std::to_string(cfg.hi));
    }
    if (my_lcore >= steer.n_owners()) {
        throw std::invalid_argument("port allocator: lcore " + std::to_string(my_lcore) + " owns no 4-tuples (" +
                                    std::to_string(steer.n_owners()) + " owners)");
    }
    // __inet_hash_connect(): high++ ([32768, 60999] -> [32768, 61000[);
    // remaining = high - low, made even when > 1.
    _low = cfg.lo;
    _high = uint32_t(cfg.hi) + 1;
    _remaining = _high - _low;
    if (_remaining > 1) {
        _remaining &= ~1u;
    }
    for (uint16_t p : cfg.reserved) {
        _reserved[p >> 6] |= uint64_t(1) << (p & 63);
    }
    // Linux fills table_perturb with random bytes once; we derive it from the
    // key so a given key reproduces every choice (tests), and a random key
    // (fg::random_siphash_key) makes it as unpredictable as Linux's.
    const siphash_key sub{{siphash_2u32(tag_subkey, 0, key), siphash_2u32(tag_subkey, 1, key)}};
    for (uint32_t i = 0; i < perturb_size; i += 4) {
        const uint64_t v = siphash_2u32(tag_table, i, sub);
        for (uint32_t k = 0; k < 4; k++) {
            _perturb[i + k] = uint16_t(v >> (16 * k));
        }
    }
    _rng = siphash_2u32(tag_seed, 0, sub) | 1; // xorshift state must not be zero
}

} // namespace fg::port
