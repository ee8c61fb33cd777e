/*
 * memcpy, memmove and memset for EL2 images. picolibc's variants do not fit: its
 * size-optimized build has byte loops (four instructions per byte: they dominated the
 * cost of an exit, which copies and clears event structures), and its speed-optimized
 * build uses SIMD registers, which EL2 code must not touch (the guest's stay live on the
 * CPU). These move 8 bytes per step with general registers when the alignment allows
 * (-mstrict-align: no unaligned accesses), and fall back to bytes otherwise.
 * Compiled -ffreestanding, so the loops are not turned back into calls to themselves.
 */
#include <stddef.h>
#include <stdint.h>

static int aligned8(const void* a, const void* b) { return (((uintptr_t)a | (uintptr_t)b) & 7) == 0; }

void* memcpy(void* restrict destination, const void* restrict source, size_t size) {
  unsigned char* d = destination;
  const unsigned char* s = source;
  if (aligned8(d, s)) {
    for (; size >= 16; size -= 16, d += 16, s += 16) {
      const uint64_t first = ((const uint64_t*)s)[0];
      const uint64_t second = ((const uint64_t*)s)[1];
      ((uint64_t*)d)[0] = first;
      ((uint64_t*)d)[1] = second;
    }
    for (; size >= 8; size -= 8, d += 8, s += 8) *(uint64_t*)d = *(const uint64_t*)s;
  }
  while (size-- > 0) *d++ = *s++;
  return destination;
}

void* memmove(void* destination, const void* source, size_t size) {
  unsigned char* d = destination;
  const unsigned char* s = source;
  if (d <= s || d >= s + size) return memcpy(destination, source, size);
  /* Overlapping, destination above source: copy backwards. */
  d += size;
  s += size;
  if (aligned8(d, s)) {
    for (; size >= 8; size -= 8) {
      d -= 8;
      s -= 8;
      *(uint64_t*)d = *(const uint64_t*)s;
    }
  }
  while (size-- > 0) *--d = *--s;
  return destination;
}

void* memset(void* destination, int value, size_t size) {
  unsigned char* d = destination;
  const unsigned char byte = (unsigned char)value;
  if (((uintptr_t)d & 7) == 0) {
    const uint64_t word = byte * 0x0101010101010101ull;
    for (; size >= 16; size -= 16, d += 16) {
      ((uint64_t*)d)[0] = word;
      ((uint64_t*)d)[1] = word;
    }
    for (; size >= 8; size -= 8, d += 8) *(uint64_t*)d = word;
  }
  while (size-- > 0) *d++ = byte;
  return destination;
}
