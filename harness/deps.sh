#!/bin/sh
# Install what the harness needs, from Debian only, and fetch the guests'
# Debian user space (the arm64 busybox; perf, gdb and their libraries for
# both arches) without touching the host's apt configuration.
#
#   harness/deps.sh            install missing host packages, fetch guest debs
#   harness/deps.sh --check    exit 1 if anything is missing (installs nothing)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"

# Host packages. linux-source-6.12 is the base tree; the rest builds kernels
# for both arches, builds the guests' static programs (the arm64 guest's
# AArch32 ones with the armhf cross compiler), cross-builds the other
# arches that select HAVE_HW_BREAKPOINT (make lint) and runs QEMU (TCG);
# gnuplot-nox draws make bench's plot.
PKGS="make gcc libc6-dev python3 python3-docutils xz-utils gzip cpio rsync patch git sparse
flex bison bc libelf-dev libssl-dev dwarves kmod ccache
gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu
gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
gcc-powerpc64le-linux-gnu gcc-sh4-linux-gnu
qemu-system-x86 qemu-system-arm busybox-static
linux-source-6.12
gnuplot-nox"

# arm64 and armhf packages unpacked into the arm64 and 32-bit arm initramfs.
ARM64_PKGS="busybox-static"
ARMHF_PKGS="busybox-static"

# Debian's own clients of the subsystem, unpacked for each guest arch into
# build/deps/<debian arch>/root: perf and gdb (gdb-minimal: no Python),
# then the packages of every shared library they load. harness/guest.py
# walks their DT_NEEDED entries against that root and packs only the
# libraries found; a soname it cannot find fails the clients suite with
# its name (add the package providing it here).
CLIENT_PKGS="linux-perf gdb-minimal
libc6 libgcc-s1 libstdc++6 zlib1g libzstd1 liblzma5 libbz2-1.0 libcrypt1
libelf1 libdw1 libunwind8 libopencsd1 libnuma1 libcap2 libslang2
libbabeltrace1 libglib2.0-0 libpcre2-8-0 libuuid1 libperl5.36 libpython3.11
libreadline8 libtinfo6 libexpat1 libgmp10 libxxhash0 libdebuginfod1
libcurl3-gnutls libnghttp2-14 libidn2-0 libunistring2 librtmp1 libssh2-1
libpsl5 libnettle8 libhogweed6 libgnutls30 libp11-kit0 libffi8 libtasn1-6
libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2
libkeyutils1 libldap-2.5-0 libsasl2-2 libbrotli1 libssl3"
# gdb's Intel Processor Trace decoder exists on amd64 only.
AMD64_PKGS="$CLIENT_PKGS libipt2"
ARM64_PKGS="$ARM64_PKGS $CLIENT_PKGS"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done

# Packages of one Debian arch not yet unpacked under build/deps/<arch>.
unfetched() {
	arch=$1
	shift
	for p; do
		[ -f "$deps/$arch/$p.stamp" ] || printf ' %s' "$p"
	done
}
amd64_missing=$(unfetched amd64 $AMD64_PKGS)
arm64_missing=$(unfetched arm64 $ARM64_PKGS)
armhf_missing=$(unfetched armhf $ARMHF_PKGS)

if [ "${1:-}" = "--check" ]; then
	[ -z "$missing$amd64_missing$arm64_missing$armhf_missing" ] && exit 0
	echo "missing:$missing${amd64_missing:+ amd64:$amd64_missing}${arm64_missing:+ arm64:$arm64_missing}${armhf_missing:+ armhf:$armhf_missing}"
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

# Guest debs: a private apt state per Debian arch under build/deps/apt-<arch>
# (lists, cache, status), reading the host's sources, then dpkg-deb -x into
# build/deps/<arch>/root. The host's dpkg architecture list and its own apt
# lists are never changed.
fetch() {
	arch=$1
	shift
	[ $# -gt 0 ] || return 0
	apt_dir="$deps/apt-$arch"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" \
		"$deps/$arch/debs"
	: >"$apt_dir/status"
	pkgs="$*"
	set -- -o APT::Architecture="$arch" -o APT::Architectures="$arch" \
		-o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::State::Status="$apt_dir/status" \
		-o Dir::Cache="$apt_dir/cache" \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root
	echo "deps: fetching $arch: $pkgs"
	apt-get -q "$@" update >"$apt_dir/update.log" 2>&1 ||
		{ cat "$apt_dir/update.log"; exit 1; }
	for p in $pkgs; do
		rm -f "$deps/$arch/debs/${p}_"*.deb
	done
	(cd "$deps/$arch/debs" &&
		apt-get -q "$@" download $(for p in $pkgs; do echo "$p:$arch"; done) \
			>"$apt_dir/download.log" 2>&1) ||
		{ cat "$apt_dir/download.log"; exit 1; }
	for p in $pkgs; do
		dpkg-deb -x "$deps/$arch/debs/${p}_"*_"$arch".deb "$deps/$arch/root"
		touch "$deps/$arch/$p.stamp"
	done
}
fetch amd64 $amd64_missing
fetch arm64 $arm64_missing
fetch armhf $armhf_missing
