// Host-side helpers for the QEMU scenarios.
#pragma once
#include <stdint.h>
#include <stdio.h>

#include "guest.h"

// QEMU virt's GICv3 (hw/arm/virt.c memory map), for scenarios that take interrupts.
constexpr uintptr_t kGicDistributor = 0x0800'0000;
constexpr uintptr_t kGicRedistributor = 0x080a'0000;

// Per-scenario guest memory: the guest's stack lives in the image's .bss. (`name` is a
// declarator: it cannot be parenthesized.)
// NOLINTNEXTLINE(bugprone-macro-parentheses)
#define SCENARIO_GUEST_STACK(name) alignas(16) static unsigned char name[8192]

// Fails a scenario with a message; main's return value is the QEMU exit status.
#define SCENARIO_CHECK(condition)                                                    \
  do {                                                                               \
    if (!(condition)) {                                                              \
      printf("scenario check failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      return 1;                                                                      \
    }                                                                                \
  } while (0)
