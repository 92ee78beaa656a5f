#!/usr/bin/env bash
# Sets a Debian 12 machine up for virtkit: the Debian packages the drivers and
# their tests use, pnpm, the Node dependencies, and a build of every package.
# Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  qemu-system-x86 qemu-utils qemu-block-extra ovmf   # QEMU driver, volumes, nfs:// and iscsi://
  linux-image-cloud-amd64 busybox-static cpio kmod    # the tiny test guest and container rootfs
  lxc                                                 # LXC driver
  dnsmasq-base nftables iproute2                      # virtual networks
  lvm2 e2fsprogs tgt libiscsi-bin nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils nfs-common   # storage pools
  openssh-server openssh-client                       # remote over SSH
  socat
  libvirt0                                            # libvirt's RelaxNG schemas for --validate (/usr/share/libvirt/schemas)
  libxml2-utils                                       # xmllint: the validator's reference in its differential test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

want_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [[ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]]; then
  echo "setup: installing pnpm $want_pnpm"
  npm install -g --silent "pnpm@$want_pnpm"
fi

pnpm install --frozen-lockfile
pnpm build
