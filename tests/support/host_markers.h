/*
 * Host marker values in the general registers while a guest runs, shared by the isolation
 * scenario (tests/qemu) and the guest fuzzer (tests/fuzz/guest); included by assembly and
 * by C++.
 *
 * call_with_host_markers(function, context) calls function(context) with marker values in
 * the host's general registers: callee-saved x19-x28, which reach the world switch unless
 * compiled code on the way reuses them, and caller-saved x1-x15, x17 and x18. It returns
 * which callee-saved registers, and SP, did not come back (AAPCS64 6.1.1): bit n - 19 for
 * x<n>, HOST_MARKERS_SP_CHANGED_BIT for SP. A guest must never see a marker.
 */
#ifndef TESTS_SUPPORT_HOST_MARKERS_H
#define TESTS_SUPPORT_HOST_MARKERS_H

/* The marker for x<n>: HOST_MARKER_TAG ("HHHH") in bits [63:32], n in bits [31:0]. */
#define HOST_MARKER_TAG 0x4848
#define HOST_MARKERS_SP_CHANGED_BIT 10

#ifndef __ASSEMBLER__
#include <stdint.h>

extern "C" uint64_t call_with_host_markers(void (*function)(void*), void* context);

constexpr uint64_t host_marker(uint32_t n) {
  return (uint64_t{HOST_MARKER_TAG} << 48 | uint64_t{HOST_MARKER_TAG} << 32) | n;
}
constexpr bool is_host_marker(uint64_t value) { return value >> 32 == host_marker(0) >> 32; }
#endif
#endif
