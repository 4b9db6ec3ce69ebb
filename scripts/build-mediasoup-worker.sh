#!/usr/bin/env bash
# Builds mediasoup's C++ worker from the sources in mediasoup's npm package, against
# Debian 12 libraries, with no internet access beyond the npm registry (or none at all
# when MEDIASOUP_TARBALL points at a local `npm pack` file).
#
# Output: the binary path on stdout (last line). The binary is cached under
#   $RELAIS_WORKER_CACHE (default ~/.cache/relais/mediasoup-worker)/<version>-<script hash>/
# and linked at <project>/.worker/mediasoup-worker, where the server looks for it.
#
# Debian packages needed (scripts/debian-build-packages.txt): g++ make patch meson ninja-build
#   pkg-config flatbuffers-compiler libflatbuffers-dev libssl-dev libuv1-dev libabsl-dev
#   libsrtp2-dev libusrsctp-dev
#
# Two libraries are compiled here from Debian's own source tarballs (the archive's pool, on
# $RELAIS_DEBIAN_MIRROR, default http://deb.debian.org/debian; sha256 pinned in
# worker-shims/debian-sources.sh) and linked statically:
#   RELAIS_LIBSRTP=openssl (default): libsrtp 2.5.0 against OpenSSL. Debian's binary libsrtp2
#     uses NSS, ~5x the CPU per packet, and every forwarded packet is encrypted once per
#     receiver. RELAIS_LIBSRTP=debian links Debian's binary libsrtp2 instead.
#   RELAIS_LIBURING=on (default, Linux >= 6): liburing 2.9, so a packet's copies leave in one
#     io_uring submission instead of one sendmsg() each. RELAIS_LIBURING=off goes without.
# RELAIS_WORKER_LTO=off (default) | on: link-time optimisation (-Db_lto=true), which inlines the
#   per-packet helpers (RTP accessors, rate counters) across the worker's source files.
# RELAIS_WORKER_ZEROCOPY=off (default) | on: mediasoup sends through io_uring with zero-copy sends
#   (send_zc on registered buffers) whenever it may register them; for RTP's small datagrams the
#   page pinning and the extra completion per send cost more than the copy they save (the kernel's
#   MSG_ZEROCOPY notes: effective above ~10 KB), and on loopback the kernel copies anyway. off
#   keeps io_uring's batched submission but with plain sendto: ~5 % less worker CPU per packet in
#   a side-by-side briefing (BENCHMARKS.md, `npm run bench:worker-builds`).
# Without the archive's sources, RELAIS_LIBSRTP_TARBALL / RELAIS_LIBURING_TARBALL name local
# copies of libsrtp2_2.5.0.orig.tar.gz / liburing_2.9.orig.tar.gz.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
shims="$here/worker-shims"

# The version comes from package.json, so the worker is built before `npm ci` runs
# (mediasoup's postinstall skips its GitHub download when MEDIASOUP_WORKER_BIN is set).
version="$(node -e 'const p=require(process.argv[1]);const v=p.dependencies.mediasoup;if(!/^\d+\.\d+\.\d+$/.test(v)){console.error("package.json must pin mediasoup to an exact version, got "+v);process.exit(1)}console.log(v)' "$project/package.json")"
srtp_variant="${RELAIS_LIBSRTP:-openssl}"
case "$srtp_variant" in openssl|debian) ;; *) echo "RELAIS_LIBSRTP must be 'openssl' or 'debian', got '$srtp_variant'" >&2; exit 1 ;; esac
uring_variant="${RELAIS_LIBURING:-on}"
case "$uring_variant" in on|off) ;; *) echo "RELAIS_LIBURING must be 'on' or 'off', got '$uring_variant'" >&2; exit 1 ;; esac
# mediasoup's build file only uses liburing when the building machine runs Linux >= 6.
if [ "$uring_variant" = on ] && [ "$(uname -r | cut -d. -f1)" -lt 6 ]; then
  echo "[build-mediasoup-worker] Linux $(uname -r) < 6: building without liburing" >&2
  uring_variant=off
fi
lto_variant="${RELAIS_WORKER_LTO:-off}"
case "$lto_variant" in on|off) ;; *) echo "RELAIS_WORKER_LTO must be 'on' or 'off', got '$lto_variant'" >&2; exit 1 ;; esac
zerocopy_variant="${RELAIS_WORKER_ZEROCOPY:-off}"
case "$zerocopy_variant" in on|off) ;; *) echo "RELAIS_WORKER_ZEROCOPY must be 'on' or 'off', got '$zerocopy_variant'" >&2; exit 1 ;; esac
script_hash="$( (cat "${BASH_SOURCE[0]}"; find "$shims" -type f | LC_ALL=C sort | xargs cat; echo "srtp=$srtp_variant uring=$uring_variant lto=$lto_variant zerocopy=$zerocopy_variant") | sha256sum | cut -c1-12)"
cache_root="${RELAIS_WORKER_CACHE:-${HOME:-/root}/.cache/relais/mediasoup-worker}"
cache_dir="$cache_root/$version-$script_hash"
bin="$cache_dir/mediasoup-worker"

log() { echo "[build-mediasoup-worker] $*" >&2; }

link_into_project() {
  mkdir -p "$project/.worker"
  ln -sfn "$bin" "$project/.worker/mediasoup-worker"
  echo "$bin"
}

if [ -x "$bin" ] && [ "${RELAIS_WORKER_REBUILD:-0}" != "1" ]; then
  log "cached worker for mediasoup $version: $bin"
  link_into_project
  exit 0
fi

for tool in meson ninja pkg-config flatc g++ make patch; do
  command -v "$tool" >/dev/null || { log "missing '$tool': apt-get install g++ make patch meson ninja-build pkg-config flatbuffers-compiler libflatbuffers-dev libssl-dev libuv1-dev libabsl-dev libsrtp2-dev libusrsctp-dev"; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/relais-worker-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ -n "${MEDIASOUP_TARBALL:-}" ]; then
  tarball="$MEDIASOUP_TARBALL"
else
  log "fetching mediasoup@$version sources from the npm registry"
  (cd "$work" && npm pack --silent "mediasoup@$version" >/dev/null)
  tarball="$work/mediasoup-$version.tgz"
fi
tar -xzf "$tarball" -C "$work"
src="$work/package/worker"

# 1. Debian's libraries instead of the wraps' GitHub downloads.
rm -f "$src"/subprojects/*.wrap
cp -r "$shims/subprojects/." "$src/subprojects/"

# 1b. libsrtp (against OpenSSL) and liburing from Debian's source tarballs (worker-shims/debian-sources.sh).
# shellcheck source=worker-shims/debian-sources.sh
. "$shims/debian-sources.sh"
srtp_prefix=""
if [ "$srtp_variant" = openssl ]; then
  srtp_prefix="$work/srtp-prefix"
  build_libsrtp_openssl "$srtp_prefix" || { log "or RELAIS_LIBSRTP=debian (Debian's binary libsrtp2, slower SRTP)"; exit 1; }
fi
uring_prefix=""
if [ "$uring_variant" = on ]; then
  uring_prefix="$work/uring-prefix"
  build_liburing "$uring_prefix" || { log "or RELAIS_LIBURING=off (one sendmsg per packet and receiver)"; exit 1; }
fi

# 2. Bookworm's meson is 1.0.1; the worker's build file uses nothing newer than 1.0.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$src/meson.build"

# 3. DTLS crash with Debian's kTLS-enabled OpenSSL: the BIO callback answered 1 to every
#    BIO_ctrl (including "is this kernel TLS?") because it compared the operation with
#    BIO_CB_RETURN instead of testing the bit. Pass OpenSSL's own result through.
dtls="$src/src/RTC/DtlsTransport.cpp"
grep -q '(operationType == BIO_CB_RETURN)' "$dtls" || { log "DtlsTransport.cpp no longer has the BIO_CB_RETURN comparison: review the patch for mediasoup $version"; exit 1; }
sed -i 's/(operationType == BIO_CB_RETURN)/((operationType \& BIO_CB_RETURN) != 0)/' "$dtls"

# 4. Zero-copy sends off (RELAIS_WORKER_ZEROCOPY, above): the same io_uring path with sendto.
if [ "$zerocopy_variant" = off ]; then
  uring_header="$src/include/DepLibUring.hpp"
  grep -q 'bool zeroCopyEnabled{ true };' "$uring_header" || { log "DepLibUring.hpp no longer has 'bool zeroCopyEnabled{ true };': review the patch for mediasoup $version"; exit 1; }
  sed -i 's/bool zeroCopyEnabled{ true };/bool zeroCopyEnabled{ false };/' "$uring_header"
fi

# 5. A keyframe request crossing a pipe (a viewer on another router, worker or node) reached the
#    sender for every simulcast layer: PipeConsumer::ReceiveKeyFrameRequest ignored the SSRC the
#    request names. Each lowest-layer viewer joining behind a pipe made the commander encode
#    keyframes of all three layers (BENCHMARKS.md, video briefing). Ask for the named layer only.
patch --directory="$src" --strip=1 --forward --batch --no-backup-if-mismatch \
  < "$shims/patches/pipe-consumer-keyframe-per-layer.patch" >&2 \
  || { log "patches/pipe-consumer-keyframe-per-layer.patch no longer applies: review it for mediasoup $version"; exit 1; }

log "building mediasoup-worker $version (release, ~8 min on 2 cores)"
(
  cd "$src"
  uring_options=(-Dms_disable_liburing=true)
  [ -n "$uring_prefix" ] && uring_options=(-Dms_disable_liburing=false -Dliburing:relais_uring_prefix="$uring_prefix")
  lto_options=(-Db_lto=false)
  [ "$lto_variant" = on ] && lto_options=(-Db_lto=true)
  meson setup build --buildtype release -Db_ndebug=true "${uring_options[@]}" "${lto_options[@]}" \
    -Dlibsrtp3:relais_srtp_prefix="$srtp_prefix" >&2
  # The generated FlatBuffers headers are not declared as inputs of the worker target: make them first.
  ninja -C build fbs/FBS >&2
  ninja -C build -j "${RELAIS_WORKER_JOBS:-$(nproc)}" mediasoup-worker >&2
)

mkdir -p "$cache_dir"
install -m 0755 "$src/build/mediasoup-worker" "$bin.tmp"
mv "$bin.tmp" "$bin"
log "built $bin (SRTP: $srtp_variant, liburing: $uring_variant, LTO: $lto_variant, zero-copy sends: $zerocopy_variant)"
link_into_project
