#!/bin/sh
# tempus @VERSION@: one self-extracting executable holding the pinned Deno @DENO_VERSION@
# runtime and the bundled tempus program (built by `deno task dist`, scripts/dist.ts).
# On first use it unpacks both into a cache directory it owns, checks them against the
# SHA-256 sums below, and from then on only execs them. Needs sh, tail, head, gzip,
# sha256sum, mkdir, mv (all in Debian's essential set, or busybox).
#
#   tempus --unpack          unpack (if needed) and print the cache directory
#   TEMPUS_CACHE_DIR=DIR     use DIR instead of the default cache
#
# Cache: as root /var/cache/tempus; otherwise /var/cache/tempus when root has unpacked this
# build there, else ${XDG_CACHE_HOME:-$HOME/.cache}/tempus. A cache directory is used only
# when it is owned by root or by the caller and nobody else can write to it.
#
# Every command runs in Deno's permission sandbox (never -A): a read-only pre-stage,
# `tempus permissions ARGS...`, prints the flags the command needs, then deno runs it with them.
set -eu
id=@ID@
deno_offset=@DENO_OFFSET@
deno_size=@DENO_SIZE@
js_offset=@JS_OFFSET@
js_size=@JS_SIZE@
sums='@SUMS@'
self=$0
case "$self" in /*) ;; *) self="$(pwd)/$self" ;; esac

die() {
  echo "tempus: $*" >&2
  exit 1
}

# Owned by root or by us, and not writable by group or others.
trusted() {
  [ -d "$1" ] && [ ! -L "$1" ] || return 1
  set -- $(stat -L -c '%u %a' "$1")
  [ "$1" = 0 ] || [ "$1" = "$(id -u)" ] || return 1
  case "$2" in *[2367]? | *[2367]) return 1 ;; esac
  return 0
}

unpack() {
  base=$1
  mkdir -p "$base" 2>/dev/null || die "cannot create the cache directory $base"
  trusted "$base" || die "cache directory $base is not owned by root or $(id -un), or is writable by others"
  tmp="$base/.unpack.$$"
  rm -rf "$tmp"
  mkdir -m 0755 "$tmp"
  tail -c +"$deno_offset" "$self" 2>/dev/null | head -c "$deno_size" | gzip -dc >"$tmp/deno" ||
    { rm -rf "$tmp"; die "cannot unpack the Deno runtime into $base"; }
  tail -c +"$js_offset" "$self" 2>/dev/null | head -c "$js_size" | gzip -dc >"$tmp/tempus.js" ||
    { rm -rf "$tmp"; die "cannot unpack the program into $base"; }
  (cd "$tmp" && printf '%s\n' "$sums" | sha256sum -c >/dev/null 2>&1) ||
    { rm -rf "$tmp"; die "$self is damaged (SHA-256 mismatch after unpacking)"; }
  chmod 0755 "$tmp/deno"
  chmod 0644 "$tmp/tempus.js"
  printf '%s\n' "$sums" >"$tmp/SHA256SUMS"
  # Another process may have finished first: keep its copy.
  mv "$tmp" "$base/$id" 2>/dev/null || rm -rf "$tmp"
  [ -x "$base/$id/deno" ] || die "unpacking into $base failed"
  # Builds other than this one are stale.
  for old in "$base"/*; do
    [ "$old" = "$base/$id" ] || [ ! -f "$old/SHA256SUMS" ] || rm -rf "$old"
  done
}

ready() {
  [ -f "$1/$id/SHA256SUMS" ] && [ -x "$1/$id/deno" ] && trusted "$1" && trusted "$1/$id"
}

if [ -n "${TEMPUS_CACHE_DIR:-}" ]; then
  base=$TEMPUS_CACHE_DIR
elif [ "$(id -u)" = 0 ] || ready /var/cache/tempus; then
  base=/var/cache/tempus
else
  base=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/tempus
fi
ready "$base" || unpack "$base"
dir=$base/$id

if [ "${1:-}" = --unpack ]; then
  echo "$dir"
  exit 0
fi

export DENO_DIR="$dir/deno_dir" DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1
deno_run() {
  exec "$dir/deno" run --quiet --no-config --no-lock --cached-only --no-prompt "$@"
}
prestage="--allow-read --allow-env=NOTIFY_SOCKET,TMPDIR"
case "${1:-}" in
  permissions) deno_run $prestage "$dir/tempus.js" "$@" ;;
  # These need no permission at all: skip the pre-stage.
  "" | --version | -V | version | --help | -h | help) deno_run "$dir/tempus.js" "$@" ;;
esac
flags=$(deno_run $prestage "$dir/tempus.js" permissions "$@") || exit 1
set -f
IFS='
'
if [ "$1" = daemon ]; then
  # The daemon re-executes itself to go to the background; Deno hides /proc/self/cmdline.
  TEMPUS_COMMAND_LINE=$(printf '%s\n' "$dir/deno" run --quiet --no-config --no-lock \
    --cached-only --no-prompt --unstable-net $flags "$dir/tempus.js" "$@")
  export TEMPUS_COMMAND_LINE
fi
deno_run --unstable-net $flags "$dir/tempus.js" "$@"
exit 1
# The payload (gzip'd deno, gzip'd tempus.js) follows the next line.
__PAYLOAD__
