#!/bin/sh
# Installs what focusnet needs on a fresh Debian 12/13 machine without a GPU:
# Mesa's software Vulkan driver (lavapipe) new enough for Dawn, the Vulkan
# loader, Fashion-MNIST, and the npm packages. Idempotent; safe to re-run.
set -eu
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_pkgs=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

lavapipe_ok() {
  # Mesa >= 23 is required by Dawn (22.3 lacks shaderUniform*ArrayDynamicIndexing).
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] || return 1
  major=$(echo "$v" | sed 's/^[0-9]*://; s/\..*//')
  [ "$major" -ge 23 ] 2>/dev/null
}

if command -v apt-get >/dev/null 2>&1; then
  debver=$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 0)
  if ! lavapipe_ok || ! have_pkg libvulkan1; then
    if [ "$debver" = 12 ]; then
      # an active (uncommented) backports source, one-line or deb822
      if ! grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        echo "setup: adding bookworm-backports for Mesa 25 (lavapipe)"
        # the same mirror as the existing bookworm entry (deb822 .sources or one-line sources.list)
        mirror=$(awk '/^URIs:/{u=$2} /^Suites:.*bookworm( |$)/{if(u!=""){print u; exit}}' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
        [ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
        [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
          | $SUDO tee /etc/apt/sources.list.d/focusnet-backports.sources >/dev/null
      fi
      $SUDO apt-get update -qq
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
    else
      $SUDO apt-get update -qq
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
    fi
    APT_UPDATED=1
  fi
  for p in ${FOCUSNET_APT_EXTRA:-dataset-fashion-mnist chromium}; do
    if ! have_pkg "$p"; then need_pkgs="$need_pkgs $p"; fi
  done
  if [ -n "$need_pkgs" ]; then
    [ "${APT_UPDATED:-0}" = 1 ] || $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need_pkgs >/dev/null
  fi
fi

if [ ! -d node_modules/webgpu ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || npm install --no-audit --no-fund
fi
