/*
 * The C side of an EL2 image's runtime: static constructors, the PL011 console behind
 * picolibc's stdio, and the report of an exception taken at EL2 itself.
 */
#include <arm/asm/context.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- static constructors (.init_array): module initializers and globals ---- */
typedef void (*arm_constructor)(void);
extern arm_constructor __init_array_start[];
extern arm_constructor __init_array_end[];

void arm_el2_run_constructors(void) {
  for (arm_constructor* constructor = __init_array_start; constructor != __init_array_end; ++constructor)
    (*constructor)();
}

/* ---- PL011 UART console (Arm PrimeCell UART PL011 TRM, DDI 0183) ---- */
#define PL011_DR 0x000          /* data register */
#define PL011_FR 0x018          /* flag register */
#define PL011_FR_TXFF (1u << 5) /* transmit FIFO full */

/* QEMU virt's PL011 until the image names its console from the device tree. */
static uintptr_t pl011_base = ARM_EL2_DEFAULT_PL011;

void arm_el2_console_set_pl011(uint64_t base) { pl011_base = (uintptr_t)base; }

static volatile uint32_t* pl011_register(uintptr_t offset) {
  return (volatile uint32_t*)(pl011_base + offset);
}

void arm_console_putc(char c) {
  while (*pl011_register(PL011_FR) & PL011_FR_TXFF) {
  }
  *pl011_register(PL011_DR) = (uint8_t)c;
}

static int console_put(char c, FILE* file) {
  (void)file;
  if (c == '\n') arm_console_putc('\r');
  arm_console_putc(c);
  return (unsigned char)c;
}

static FILE console = FDEV_SETUP_STREAM(console_put, NULL, NULL, _FDEV_SETUP_WRITE);
FILE* const stdin = &console;
FILE* const stdout = &console;
FILE* const stderr = &console;

/* ---- exceptions taken at EL2 itself: a hypervisor bug, never a guest's doing ---- */
static const char* const kind_names[] = {
    "synchronous (SP_EL0)", "IRQ (SP_EL0)", "FIQ (SP_EL0)", "SError (SP_EL0)",
    "synchronous",          "IRQ",          "FIQ",          "SError",
};

/* Exit status of an image that took an unexpected exception at EL2. */
#define ARM_EL2_FAULT_STATUS 0x7f

void arm_el2_unexpected_exception(const uint64_t* frame, uint64_t kind) {
  printf("\n*** EL2 took an unexpected %s exception ***\n", kind < 8 ? kind_names[kind] : "?");
  printf("ESR_EL2 %016llx  FAR_EL2 %016llx\n", (unsigned long long)frame[ARM_FRAME_ESR / 8],
         (unsigned long long)frame[ARM_FRAME_FAR / 8]);
  printf("ELR_EL2 %016llx  SPSR_EL2 %016llx  SP %016llx\n", (unsigned long long)frame[ARM_FRAME_ELR / 8],
         (unsigned long long)frame[ARM_FRAME_SPSR / 8], (unsigned long long)frame[ARM_FRAME_SP / 8]);
  for (int n = 0; n < 31; n += 2) {
    if (n < 30)
      printf("x%-2d %016llx  x%-2d %016llx\n", n, (unsigned long long)frame[n], n + 1,
             (unsigned long long)frame[n + 1]);
    else
      printf("x%-2d %016llx\n", n, (unsigned long long)frame[n]);
  }
  exit(ARM_EL2_FAULT_STATUS);
}

/* Images that start secondary CPUs define this; the default parks them. */
__attribute__((weak)) void arm_el2_secondary_main(uint64_t cpu_index) {
  (void)cpu_index;
  for (;;) __asm__ volatile("wfi");
}

/*
 * picolibc's printf, snprintf and vsnprintf are built with FP/SIMD enabled: printf's
 * prologue saves q0-q7 and the string formatters copy their va_list through q0/q1, which
 * would clobber a guest's FP/SIMD registers (live on the CPU while the host handles an
 * exit). The linker routes every call to them through the wrappers below (--wrap). They
 * are compiled -mgeneral-regs-only and format through vfprintf, which uses no FP/SIMD.
 * tests/qemu checks every image for FP/SIMD instructions outside the FP context switch.
 */
#include <stdarg.h>
#include <stddef.h>

/* A FILE that writes into a caller's buffer, always NUL-terminated if size > 0. */
struct buffer_stream {
  FILE file; /* first: the stream's put function gets &file */
  char* next;
  char* last; /* the byte reserved for the terminating NUL */
};

static int buffer_put(char c, FILE* file) {
  struct buffer_stream* stream = (struct buffer_stream*)file;
  if (stream->next < stream->last) *stream->next++ = c;
  return (unsigned char)c;
}

int __wrap_vsnprintf(char* buffer, size_t size, const char* format, va_list arguments) {
  char ignored;
  struct buffer_stream stream = {
      .file = FDEV_SETUP_STREAM(buffer_put, NULL, NULL, _FDEV_SETUP_WRITE),
      .next = size ? buffer : &ignored,
      .last = size ? buffer + size - 1 : &ignored,
  };
  int written = vfprintf(&stream.file, format, arguments);
  *stream.next = '\0';
  return written;
}

int __wrap_vsprintf(char* buffer, const char* format, va_list arguments) {
  return __wrap_vsnprintf(buffer, (size_t)-1 / 2, format, arguments);
}

int __wrap_printf(const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int written = vfprintf(stdout, format, arguments);
  va_end(arguments);
  return written;
}

int __wrap_fprintf(FILE* stream, const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int written = vfprintf(stream, format, arguments);
  va_end(arguments);
  return written;
}

int __wrap_snprintf(char* buffer, size_t size, const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int written = __wrap_vsnprintf(buffer, size, format, arguments);
  va_end(arguments);
  return written;
}

int __wrap_sprintf(char* buffer, const char* format, ...) {
  va_list arguments;
  va_start(arguments, format);
  int written = __wrap_vsprintf(buffer, format, arguments);
  va_end(arguments);
  return written;
}
