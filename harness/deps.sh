#!/bin/sh
# Install what the harness needs, from Debian only, and fetch the arm64 user
# space for the arm64 guest without touching the host's apt configuration.
#
#   harness/deps.sh            install missing host packages, fetch arm64 debs
#   harness/deps.sh --check    exit 1 if anything is missing (installs nothing)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"

# Host packages. linux-source-6.12 is the base tree; the rest builds kernels
# for both arches, builds the guests' static programs and runs QEMU (TCG).
PKGS="make gcc libc6-dev python3 python3-docutils xz-utils gzip cpio rsync patch git sparse
flex bison bc libelf-dev libssl-dev dwarves kmod ccache
gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
qemu-system-x86 qemu-system-arm busybox-static
linux-source-6.12"

# arm64 packages unpacked into the arm64 initramfs.
ARM64_PKGS="busybox-static"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

arm64_missing=""
for p in $ARM64_PKGS; do
	[ -f "$deps/arm64/$p.stamp" ] || arm64_missing="$arm64_missing $p"
done

if [ "${1:-}" = "--check" ]; then
	[ -z "$missing$arm64_missing" ] && exit 0
	echo "missing:$missing${arm64_missing:+ arm64:$arm64_missing}"
	exit 1
fi

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "deps: need root to run: $*" >&2
		exit 1
	fi
}

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi

# arm64 debs: a private apt state under build/deps/apt-arm64 (lists, cache,
# status), reading the host's sources. The host's dpkg architecture list
# and its own apt lists are never changed.
if [ -n "$arm64_missing" ]; then
	apt_dir="$deps/apt-arm64"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$deps/arm64"
	: >"$apt_dir/status"
	set -- -o APT::Architecture=arm64 -o APT::Architectures=arm64 \
		-o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::State::Status="$apt_dir/status" \
		-o Dir::Cache="$apt_dir/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
	echo "deps: fetching arm64:$arm64_missing"
	apt-get -q "$@" update >"$apt_dir/update.log" 2>&1 ||
		{ cat "$apt_dir/update.log"; exit 1; }
	for p in $arm64_missing; do
		rm -f "$deps/arm64/${p}_"*.deb
		(cd "$deps/arm64" && apt-get -q "$@" download "$p:arm64")
		dpkg-deb -x "$deps/arm64/${p}_"*_arm64.deb "$deps/arm64/root"
		touch "$deps/arm64/$p.stamp"
	done
fi
