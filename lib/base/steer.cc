#include "base/steer.hh"

#include <stdexcept>

namespace fg {

const std::array<uint8_t, steering::key_len> steering::symmetric_key = [] {
    std::array<uint8_t, key_len> k{};
    for (uint32_t i = 0; i < key_len; i += 2) {
        k[i] = 0x6d;
        k[i + 1] = 0x5a;
    }
    return k;
}();

steering::steering(uint16_t n_owners, uint32_t reta_size, const std::array<uint8_t, key_len>& key)
    : _reta_size(reta_size), _n_owners(n_owners), _key(key)
{
    if (n_owners == 0 || reta_size == 0 || reta_size > reta_max || (reta_size & (reta_size - 1)) != 0) {
        throw std::invalid_argument("steering: need n_owners >= 1 and a power-of-two RETA size <= 512");
    }
    for (uint32_t i = 0; i < reta_size; i++) {
        _reta[i] = uint16_t(i % n_owners);
    }
    // window(k): the 32 key bits starting at bit k (MSB first).
    auto window = [&](uint32_t k) {
        uint32_t w = 0;
        for (uint32_t j = 0; j < 32; j++) {
            const uint32_t bit = k + j;
            const uint32_t v = (_key[bit / 8] >> (7 - bit % 8)) & 1u;
            w = (w << 1) | v;
        }
        return w;
    };
    for (uint32_t byte = 0; byte < 12; byte++) {
        for (uint32_t v = 0; v < 256; v++) {
            uint32_t h = 0;
            for (uint32_t j = 0; j < 8; j++) {
                if (v & (0x80u >> j)) {
                    h ^= window(byte * 8 + j);
                }
            }
            _t[byte][v] = h;
        }
    }
}

} // namespace fg
