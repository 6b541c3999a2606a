#include <sys/random.h>

#include <stdexcept>

#include "base/siphash.hh"

namespace fg {

siphash_key random_siphash_key()
{
    siphash_key k{};
    auto* p = reinterpret_cast<uint8_t*>(&k);
    std::size_t got = 0;
    while (got < sizeof(k)) {
        ssize_t n = getrandom(p + got, sizeof(k) - got, 0);
        if (n <= 0) {
            throw std::runtime_error("getrandom() failed: no strong random source for secrets");
        }
        got += std::size_t(n);
    }
    return k;
}

} // namespace fg
