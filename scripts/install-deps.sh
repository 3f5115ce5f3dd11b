#!/usr/bin/env bash
# Installs the Debian packages LeakHunter needs beside the .NET 10 SDK:
#   libgtk-3-0    - OpenCV's native library (OpenCvSharp4.official.runtime.linux-x64) links against it
#   redis-server  - cluster mode, and the tests start their own on loopback
#   chromium      - the dashboard's browser tests (Playwright drives Debian's Chromium)
set -euo pipefail
packages=(libgtk-3-0 redis-server chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
