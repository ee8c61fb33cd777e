# Cross toolchain for bare-metal AArch64 images that run at EL2 (QEMU virt or hardware).
# Freestanding C++20: no hosted standard library, no exceptions, no RTTI, and no
# FP/SIMD in EL2 code (-mgeneral-regs-only) so the guest's FP/SIMD registers can stay
# live on the CPU across exits (they move only in VCpu::load/put).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(ARM_LLVM_SUFFIX "-19" CACHE STRING "Suffix of the LLVM tools (clang-19, llvm-ar-19, ...)")
set(CMAKE_C_COMPILER clang${ARM_LLVM_SUFFIX})
set(CMAKE_CXX_COMPILER clang++${ARM_LLVM_SUFFIX})
set(CMAKE_ASM_COMPILER clang${ARM_LLVM_SUFFIX})
foreach(lang C CXX ASM)
  set(CMAKE_${lang}_COMPILER_TARGET aarch64-none-elf)
endforeach()
set(CMAKE_AR llvm-ar${ARM_LLVM_SUFFIX})
set(CMAKE_RANLIB llvm-ranlib${ARM_LLVM_SUFFIX})
set(CMAKE_CXX_COMPILER_CLANG_SCAN_DEPS clang-scan-deps${ARM_LLVM_SUFFIX})

set(ARM_PICOLIBC_ROOT "/usr/lib/picolibc/aarch64-linux-gnu" CACHE PATH "picolibc for AArch64 (Debian picolibc-aarch64-linux-gnu)")

# -flto=thin: functions defined in a named module are not inline in their importers
# (C++20 [dcl.inline]), so without link-time optimization every small accessor of an
# exit event would be a call on the exit path.
set(_arm_el2_common "-flto=thin -mgeneral-regs-only -fno-stack-protector -fno-pic -mno-outline-atomics -isystem ${ARM_PICOLIBC_ROOT}/include")
set(CMAKE_C_FLAGS_INIT "${_arm_el2_common} -ffreestanding")
# C++ is not compiled -ffreestanding: that would make main() an ordinary (mangled)
# function. There is still no C++ standard library (-nostdinc++); picolibc is the C library.
set(CMAKE_CXX_FLAGS_INIT "${_arm_el2_common} -nostdinc++ -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit")
set(CMAKE_ASM_FLAGS_INIT "-ffreestanding")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-flto=thin -nostdlib -static -fuse-ld=lld --ld-path=/usr/lib/llvm${ARM_LLVM_SUFFIX}/bin/ld.lld -Wl,--gc-sections -Wl,-z,norelro -Wl,--build-id=none")

# GNUInstallDirs cannot guess a library directory for a bare-metal target.
set(CMAKE_INSTALL_LIBDIR lib CACHE PATH "Object code libraries")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
