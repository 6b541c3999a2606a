// Logging through rte_log, so EAL's --log-level applies to Floodgate too.
// Usable before rte_eal_init() (rte_log then writes to stderr).
#pragma once

#include <rte_log.h>

#define FG_LOG(level, fmt, ...) rte_log(RTE_LOG_##level, RTE_LOGTYPE_USER1, "floodgate: " fmt "\n", ##__VA_ARGS__)
