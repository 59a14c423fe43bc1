# shellcheck shell=bash
# Provisioning shared by scripts/develop, scripts/test and scripts/bench.
#
# Source this file, then call `provision`. It installs only what is missing, so a second run on a
# provisioned machine takes a few seconds:
#   - system packages (ffmpeg, chromium for the browser tests) through apt-get, when absent;
#   - uv, through the machine's python3 -m pip, when absent;
#   - Python 3.14: python3.14 on PATH, else a uv-managed one, else Debian's binary packages unpacked
#     into ~/.cache (the system is not touched; recipe verified in shared/notes/ENVIRONMENT.md);
#   - .venv with the pinned dependencies of requirements/dev.txt, reinstalled only when that file
#     (or pyproject.toml) changes.
# Everything is installed with its bytecode compiled, as pip and Debian do: uv does not compile by
# default, and a process started under PYTHONDONTWRITEBYTECODE (set on this machine) would otherwise
# recompile every module it imports on every start (camera-hub-mcp: 4.9 s of imports instead of 1.3 s).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV="$ROOT/.venv"
PY_DEBIAN_DEST="${CAMERA_HUB_PYTHON_CACHE:-$HOME/.cache/camera-hub/debian-python3.14}"

log() { printf '[provision] %s\n' "$*" >&2; }

_apt_updated=0
apt_install() {
  if ((_apt_updated == 0)); then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    _apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_system_packages() {
  local missing=()
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
  command -v ffprobe >/dev/null || missing+=(ffmpeg)
  # HA's camera component scales snapshots with libturbojpeg (PyTurboJPEG loads it at run time).
  ldconfig -p | grep -q libturbojpeg || missing+=(libturbojpeg0)
  # The browser tests drive Debian's Chromium through Playwright (playwright's own downloads are
  # unreachable); its fonts come along as dependencies.
  command -v chromium >/dev/null || missing+=(chromium)
  # pyspeex-noise and pymicro-vad have no wheels for Python 3.14: they build from source.
  command -v g++ >/dev/null || missing+=(g++)
  if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
}

ensure_uv() {
  if command -v uv >/dev/null; then UV=$(command -v uv); return; fi
  if ! python3 -c 'import uv' 2>/dev/null; then
    log "installing uv"
    python3 -m pip install -q --disable-pip-version-check uv==0.13.8 2>&1 | grep -v WARNING >&2 || true
  fi
  UV=$(python3 -c 'import uv; print(uv.find_uv_bin())')
}

python_is_314() { [[ -x "$1" ]] && "$1" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 14))' 2>/dev/null; }

# Debian's python3.14 binary packages from sid, unpacked into a folder; patchelf points the
# interpreter at the unpacked loader so it runs on older glibc systems.
install_debian_python() {
  local work lib
  work=$(mktemp -d)
  log "unpacking Debian's python3.14 into $PY_DEBIAN_DEST"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$work/sid.sources"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
  local A=(-o Dir::Etc::SourceList="$work/sid.sources" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$work/lists" -o Dir::Cache="$work/cache" -o APT::Sandbox::User=root)
  apt-get "${A[@]}" -qq update
  (cd "$work/debs" && apt-get "${A[@]}" -qq download python3.14 python3.14-minimal libpython3.14-minimal \
    libpython3.14-stdlib python3.14-venv python3.14-dev libpython3.14-dev libpython3.14 libc6 libc6-dev \
    libssl3t64 libffi8 libzstd1 libsqlite3-0 libexpat1 zlib1g libbz2-1.0 liblzma5 libuuid1 libncursesw6 \
    libtinfo6 libreadline8t64 libdb5.3t64 libgcc-s1 libstdc++6 libcrypt1 libmpdec4 media-types tzdata \
    netbase libgdbm6t64 >/dev/null)
  rm -rf "$PY_DEBIAN_DEST"
  mkdir -p "$PY_DEBIAN_DEST"
  for f in "$work"/debs/*.deb; do dpkg-deb -x "$f" "$PY_DEBIAN_DEST"; done
  command -v patchelf >/dev/null || apt_install patchelf
  lib=$PY_DEBIAN_DEST/usr/lib/x86_64-linux-gnu
  patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --force-rpath --set-rpath "$lib" \
    "$PY_DEBIAN_DEST/usr/bin/python3.14"
  rm -rf "$work"
  "$PY_DEBIAN_DEST/usr/bin/python3.14" -c 'import ssl, sqlite3, ctypes, lzma'
  compile_debian_stdlib
}

# Debian's packages ship no .pyc: its postinst compiles them (py3compile); dpkg-deb -x runs no postinst.
compile_debian_stdlib() {
  local stdlib=$PY_DEBIAN_DEST/usr/lib/python3.14
  [[ -d $stdlib && ! -f $stdlib/.camera-hub-compiled ]] || return 0
  log "compiling the unpacked standard library's bytecode"
  "$PY_DEBIAN_DEST/usr/bin/python3.14" -m compileall -q -j 0 -x '/(test|idlelib|lib2to3)/' "$stdlib" >/dev/null || true
  touch "$stdlib/.camera-hub-compiled"
}

# Some pins have no wheel for Python 3.14 (pyspeex-noise, pymicro-vad) and compile against the
# interpreter's headers. Debian's Python.h includes <x86_64-linux-gnu/python3.14/pyconfig.h>, which
# resolves under /usr/include only for a system-installed Python. For the unpacked one, its include
# dirs are searched *after* the system's (-idirafter), so only what the host lacks comes from there.
# Prints the compiler flags, or nothing for any other interpreter.
unpacked_python_cflags() {
  local include=$PY_DEBIAN_DEST/usr/include
  if [[ $("$VENV/bin/python" -c 'import sys; print(sys.base_prefix)') -ef $PY_DEBIAN_DEST/usr ]]; then
    echo "-idirafter $include -idirafter $include/python3.14"
  fi
}

find_python314() {
  local candidate
  candidate=$(command -v python3.14 || true)
  if [[ -n $candidate ]] && python_is_314 "$candidate"; then PY314=$candidate; return; fi
  if python_is_314 "$PY_DEBIAN_DEST/usr/bin/python3.14"; then PY314=$PY_DEBIAN_DEST/usr/bin/python3.14; return; fi
  candidate=$("$UV" python find 3.14 2>/dev/null || true)
  if [[ -z $candidate ]] && timeout 120 "$UV" python install 3.14 >/dev/null 2>&1; then
    candidate=$("$UV" python find 3.14 2>/dev/null || true)
  fi
  if [[ -n $candidate ]] && python_is_314 "$candidate"; then PY314=$candidate; return; fi
  install_debian_python
  PY314=$PY_DEBIAN_DEST/usr/bin/python3.14
}

# The trailing word changes when the way .venv is built changes, so old ones are rebuilt too.
requirements_stamp() {
  { cat "$ROOT/requirements/dev.txt" "$ROOT/pyproject.toml"; echo compiled-bytecode; } | sha256sum | cut -d' ' -f1
}

ensure_venv() {
  local stamp_file="$VENV/.camera-hub-stamp" want
  want=$(requirements_stamp)
  if python_is_314 "$VENV/bin/python" && [[ -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; then
    return
  fi
  if ! python_is_314 "$VENV/bin/python"; then
    find_python314
    log "creating .venv from $PY314"
    "$UV" venv -q --allow-existing -p "$PY314" "$VENV"
  fi
  log "installing pinned dependencies into .venv"
  local cflags
  cflags=$(unpacked_python_cflags)
  CFLAGS="${CFLAGS:-} $cflags" CPPFLAGS="${CPPFLAGS:-} $cflags" VIRTUAL_ENV=$VENV \
    "$UV" pip install -q --compile-bytecode -r "$ROOT/requirements/dev.txt" -e "$ROOT"
  echo "$want" >"$stamp_file"
}

# The bridge alone on the oldest Python it supports (3.11, the version many Claude Desktop users'
# uvx picks), so tests can run it there: HA's 3.14 code must not leak into it. scripts/test only.
BRIDGE_OLDEST_VENV="$ROOT/.venv-bridge-py311"
ensure_bridge_oldest_venv() {
  local stamp_file="$BRIDGE_OLDEST_VENV/.camera-hub-stamp" want py311
  want=$(requirements_stamp)
  if [[ -x $BRIDGE_OLDEST_VENV/bin/python && -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; then
    return
  fi
  py311=$("$UV" python find 3.11 2>/dev/null || true)
  if [[ -z $py311 ]] && timeout 120 "$UV" python install 3.11 >/dev/null 2>&1; then
    py311=$("$UV" python find 3.11 2>/dev/null || true)
  fi
  if [[ -z $py311 ]]; then
    log "no Python 3.11 found (PATH, pyenv, uv) and uv cannot install one: the bridge's 3.11 test needs it"
    return 1
  fi
  log "creating .venv-bridge-py311 from $py311"
  "$UV" venv -q --allow-existing -p "$py311" "$BRIDGE_OLDEST_VENV"
  VIRTUAL_ENV=$BRIDGE_OLDEST_VENV "$UV" pip install -q --compile-bytecode -c "$ROOT/requirements/dev.txt" -e "$ROOT"
  echo "$want" >"$stamp_file"
}

# The low end of the manifest's requirement ranges (scripts/lib/lowest.py), installed without their
# dependencies into a directory that goes in front of .venv on PYTHONPATH: the tests of those
# libraries run once more with them (scripts/test). Reinstalled when the ranges change.
LOWEST="$ROOT/.lowest"
ensure_lowest_requirements() {
  local want
  want=$(cd "$ROOT" && "$VENV/bin/python" -m scripts.lib.lowest)
  if [[ -f $LOWEST/.camera-hub-stamp && $(cat "$LOWEST/.camera-hub-stamp") == "$want" ]]; then
    return
  fi
  rm -rf "$LOWEST"
  log "installing the lowest admitted versions into .lowest: ${want//$'\n'/, }"
  # shellcheck disable=SC2086 # one argument per pin
  "$UV" pip install -q --no-deps --compile-bytecode --python "$VENV/bin/python" --target "$LOWEST" $want
  echo "$want" >"$LOWEST/.camera-hub-stamp"
}

# The newest released Home Assistant beside .venv's (requirements/ha-next.txt): `hass` runs from here
# for the second end-to-end run (CAMERA_HUB_HASS_PYTHON, scripts/lib/hass.py). The integration's
# requirements go in under HA's own package constraints, as HA installs them at start-up.
HA_NEXT_VENV="$ROOT/.venv-ha-next"
ensure_ha_next_venv() {
  local stamp_file="$HA_NEXT_VENV/.camera-hub-stamp" want cflags ours
  want=$({ cat "$ROOT/requirements/ha-next.txt" "$ROOT/custom_components/camera_hub/manifest.json"; } | sha256sum | cut -d' ' -f1)
  if [[ -x $HA_NEXT_VENV/bin/python && -f $stamp_file && $(cat "$stamp_file") == "$want" ]]; then
    return
  fi
  log "creating .venv-ha-next (the newest released Home Assistant) from $(readlink -f "$VENV/bin/python")"
  "$UV" venv -q --allow-existing -p "$(readlink -f "$VENV/bin/python")" "$HA_NEXT_VENV"
  VIRTUAL_ENV=$HA_NEXT_VENV "$UV" pip install -q --compile-bytecode \
    "$(grep -E '^homeassistant==' "$ROOT/requirements/ha-next.txt")" || return 1
  ours=$(mktemp)
  "$VENV/bin/python" -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["requirements"]))' \
    "$ROOT/custom_components/camera_hub/manifest.json" >"$ours"
  cflags=$(unpacked_python_cflags)
  CFLAGS="${CFLAGS:-} $cflags" CPPFLAGS="${CPPFLAGS:-} $cflags" VIRTUAL_ENV=$HA_NEXT_VENV \
    "$UV" pip install -q --compile-bytecode -r "$ROOT/requirements/ha-next.txt" -r "$ours" \
    -c "$HA_NEXT_VENV/lib/python3.14/site-packages/homeassistant/package_constraints.txt" || return 1
  rm -f "$ours"
  echo "$want" >"$stamp_file"
}

provision() {
  ensure_system_packages
  ensure_uv
  ensure_venv
  compile_debian_stdlib
  export PATH="$VENV/bin:$PATH"
}
