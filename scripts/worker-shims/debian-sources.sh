# Sourced by build-mediasoup-worker.sh: libraries built here from Debian's own source
# tarballs (the package archive's pool, sha256 pinned), where Debian's binary package does
# not fit mediasoup's needs. Each lands in a private prefix that a shim subproject links
# statically. Expects: $work, log().

# fetch_debian_source POOL_DIR FILE SHA256 LOCAL_COPY → path of the verified tarball.
# LOCAL_COPY (may be empty) replaces the download on a machine without the archive.
fetch_debian_source() {
  local pool_dir="$1" file="$2" sha256="$3" local_copy="$4"
  local tarball="${local_copy:-$work/$file}"
  if [ -z "$local_copy" ]; then
    local url="${RELAIS_DEBIAN_MIRROR:-http://deb.debian.org/debian}/pool/main/$pool_dir/$file"
    log "fetching $file from Debian's archive: $url"
    node -e 'fetch(process.argv[1]).then(async r=>{if(!r.ok)throw new Error("HTTP "+r.status);require("fs").writeFileSync(process.argv[2],Buffer.from(await r.arrayBuffer()))}).catch(e=>{console.error(e.message);process.exit(1)})' "$url" "$tarball" \
      || { log "could not fetch $url: set RELAIS_DEBIAN_MIRROR to a mirror with sources, or give a local copy (see the script's header)"; return 1; }
  fi
  echo "$sha256  $tarball" | sha256sum -c --quiet - >&2 || { log "$tarball is not Debian's $file (sha256 mismatch)"; return 1; }
  echo "$tarball"
}

# libsrtp 2.5.0 (bookworm's version) against OpenSSL. Debian's binary libsrtp2 does its
# crypto through NSS, about 5x the CPU per packet; every forwarded packet is encrypted once
# per receiver. libsrtp's own known-answer tests run before it is used.
build_libsrtp_openssl() {
  local prefix="$1" tarball
  tarball="$(fetch_debian_source libs/libsrtp2 libsrtp2_2.5.0.orig.tar.gz \
    8a43ef8e9ae2b665292591af62aa1a4ae41e468b6d98d8258f91478735da4e09 "${RELAIS_LIBSRTP_TARBALL:-}")" || return 1
  tar -xzf "$tarball" -C "$work"
  log "building libsrtp 2.5.0 against OpenSSL"
  (
    cd "$work/libsrtp-2.5.0"
    meson setup build --buildtype release -Db_ndebug=true -Ddefault_library=static \
      -Dcrypto-library=openssl -Dtests=enabled -Dpcap-tests=disabled -Ddoc=disabled \
      --prefix "$prefix" --libdir lib >&2
    ninja -C build >&2
    meson test -C build --print-errorlogs >&2
    ninja -C build install >&2
  )
}

# liburing 2.9 (trixie's version; bookworm's 2.3 lacks calls mediasoup uses). With it the
# worker sends a packet's copies to all receivers with one io_uring submission instead of
# one sendmsg() each (mediasoup enables it at run time on Linux >= 6).
build_liburing() {
  local prefix="$1" tarball
  tarball="$(fetch_debian_source libu/liburing liburing_2.9.orig.tar.gz \
    57e9b36e4ac1e46b8e0351dfb1694dc59638fc25e384b4ba36d87b800b16db1a "${RELAIS_LIBURING_TARBALL:-}")" || return 1
  tar -xzf "$tarball" -C "$work"
  log "building liburing 2.9"
  (
    cd "$work/liburing-2.9"
    ./configure --prefix="$prefix" --libdir="$prefix/lib" --libdevdir="$prefix/lib" \
      --includedir="$prefix/include" --mandir="$prefix/man" >&2
    # -fPIC: the static library goes into Debian's default position-independent executable.
    make -C src -j "${RELAIS_WORKER_JOBS:-$(nproc)}" LIBURING_CFLAGS=-fPIC >&2
    make -C src install LIBURING_CFLAGS=-fPIC >&2
  )
}
