#!/usr/bin/env bash
# Builds mediasoup's C++ worker from the sources in mediasoup's npm package, against
# Debian 12 libraries, with no internet access beyond the npm registry (or none at all
# when MEDIASOUP_TARBALL points at a local `npm pack` file).
#
# Output: the binary path on stdout (last line). The binary is cached under
#   $RELAIS_WORKER_CACHE (default ~/.cache/relais/mediasoup-worker)/<version>-<script hash>/
# and linked at <project>/.worker/mediasoup-worker, where the server looks for it.
#
# Debian packages needed: g++ meson ninja-build pkg-config flatbuffers-compiler
#   libflatbuffers-dev libssl-dev libuv1-dev libabsl-dev libsrtp2-dev libusrsctp-dev
#
# SRTP (RELAIS_LIBSRTP):
#   openssl (default) — libsrtp 2.5.0 compiled here, against OpenSSL, from Debian's own source
#     tarball (pool/main/libs/libsrtp2 on $RELAIS_DEBIAN_MIRROR, or a local copy named by
#     RELAIS_LIBSRTP_TARBALL; sha256 pinned below) and linked statically. Debian's binary
#     libsrtp2 is built against NSS, which costs about 5 times more CPU per packet
#     (BENCHMARKS.md); every forwarded packet goes through it once per listener.
#   debian — Debian's binary libsrtp2 (NSS), for a machine that only has binary packages.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project="$(cd "$here/.." && pwd)"
shims="$here/worker-shims"

# The version comes from package.json, so the worker is built before `npm ci` runs
# (mediasoup's postinstall skips its GitHub download when MEDIASOUP_WORKER_BIN is set).
version="$(node -e 'const p=require(process.argv[1]);const v=p.dependencies.mediasoup;if(!/^\d+\.\d+\.\d+$/.test(v)){console.error("package.json must pin mediasoup to an exact version, got "+v);process.exit(1)}console.log(v)' "$project/package.json")"
srtp_variant="${RELAIS_LIBSRTP:-openssl}"
case "$srtp_variant" in openssl|debian) ;; *) echo "RELAIS_LIBSRTP must be 'openssl' or 'debian', got '$srtp_variant'" >&2; exit 1 ;; esac
srtp_version=2.5.0
srtp_sha256=8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09
script_hash="$( (cat "${BASH_SOURCE[0]}"; find "$shims" -type f | LC_ALL=C sort | xargs cat; echo "srtp=$srtp_variant") | sha256sum | cut -c1-12)"
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

for tool in meson ninja pkg-config flatc g++; do
  command -v "$tool" >/dev/null || { log "missing '$tool': apt-get install g++ meson ninja-build pkg-config flatbuffers-compiler libflatbuffers-dev libssl-dev libuv1-dev libabsl-dev libsrtp2-dev libusrsctp-dev"; exit 1; }
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

# 1b. libsrtp against OpenSSL, from Debian's source tarball, into a private prefix that the
#     libsrtp3 shim links statically. Its own known-answer tests run before it is used.
srtp_prefix=""
if [ "$srtp_variant" = openssl ]; then
  srtp_tarball="${RELAIS_LIBSRTP_TARBALL:-$work/libsrtp2_$srtp_version.orig.tar.gz}"
  if [ -z "${RELAIS_LIBSRTP_TARBALL:-}" ]; then
    mirror="${RELAIS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
    url="$mirror/pool/main/libs/libsrtp2/libsrtp2_$srtp_version.orig.tar.gz"
    log "fetching libsrtp $srtp_version sources from Debian's archive: $url"
    node -e 'fetch(process.argv[1]).then(async r=>{if(!r.ok)throw new Error("HTTP "+r.status);require("fs").writeFileSync(process.argv[2],Buffer.from(await r.arrayBuffer()))}).catch(e=>{console.error(e.message);process.exit(1)})' "$url" "$srtp_tarball" \
      || { log "could not fetch $url: set RELAIS_DEBIAN_MIRROR, or RELAIS_LIBSRTP_TARBALL to a local copy, or RELAIS_LIBSRTP=debian (slower SRTP)"; exit 1; }
  fi
  echo "$srtp_sha256  $srtp_tarball" | sha256sum -c --quiet - >&2 \
    || { log "$srtp_tarball is not libsrtp2_$srtp_version.orig.tar.gz (sha256 mismatch)"; exit 1; }
  tar -xzf "$srtp_tarball" -C "$work"
  srtp_prefix="$work/srtp-prefix"
  log "building libsrtp $srtp_version against OpenSSL"
  (
    cd "$work/libsrtp-$srtp_version"
    meson setup build --buildtype release -Db_ndebug=true -Ddefault_library=static \
      -Dcrypto-library=openssl -Dtests=enabled -Dpcap-tests=disabled -Ddoc=disabled \
      --prefix "$srtp_prefix" --libdir lib >&2
    ninja -C build >&2
    meson test -C build --print-errorlogs >&2
    ninja -C build install >&2
  )
fi

# 2. Bookworm's meson is 1.0.1; the worker's build file uses nothing newer than 1.0.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$src/meson.build"

# 3. DTLS crash with Debian's kTLS-enabled OpenSSL: the BIO callback answered 1 to every
#    BIO_ctrl (including "is this kernel TLS?") because it compared the operation with
#    BIO_CB_RETURN instead of testing the bit. Pass OpenSSL's own result through.
dtls="$src/src/RTC/DtlsTransport.cpp"
grep -q '(operationType == BIO_CB_RETURN)' "$dtls" || { log "DtlsTransport.cpp no longer has the BIO_CB_RETURN comparison: review the patch for mediasoup $version"; exit 1; }
sed -i 's/(operationType == BIO_CB_RETURN)/((operationType \& BIO_CB_RETURN) != 0)/' "$dtls"

log "building mediasoup-worker $version (release, ~8 min on 2 cores)"
(
  cd "$src"
  meson setup build --buildtype release -Db_ndebug=true -Dms_disable_liburing=true \
    -Dlibsrtp3:relais_srtp_prefix="$srtp_prefix" >&2
  # The generated FlatBuffers headers are not declared as inputs of the worker target: make them first.
  ninja -C build fbs/FBS >&2
  ninja -C build -j "${RELAIS_WORKER_JOBS:-$(nproc)}" mediasoup-worker >&2
)

mkdir -p "$cache_dir"
install -m 0755 "$src/build/mediasoup-worker" "$bin.tmp"
mv "$bin.tmp" "$bin"
log "built $bin (SRTP: $srtp_variant)"
link_into_project
