#!/usr/bin/env bash
# Prepares a machine to build and run tsvision, then installs the package's dependencies and
# builds the native addon (`npm ci`). Idempotent: it installs only what is missing.
#
# On Debian/Ubuntu (run as root, or with sudo available) it installs with apt-get:
#   libdnnl-dev (oneDNN 2.x), g++, make, python3 (for node-gyp), and Node.js >= 20 when missing.
# Elsewhere it checks for those and prints what to install.
# Network use: the distribution's apt mirrors and the npm registry, nothing else.
set -euo pipefail

readonly MIN_NODE_MAJOR=20
# Used only when the distribution's nodejs is older than MIN_NODE_MAJOR (Debian 12 and Ubuntu 24.04
# ship 18): the official Node.js build as published on the npm registry, headers included.
readonly FALLBACK_NODE_VERSION=20.20.2

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

node_major() {
  have node || { echo 0; return; }
  local v
  v=$(node --version 2>/dev/null || echo v0)
  v=${v#v}
  echo "${v%%.*}"
}

# ---- apt -------------------------------------------------------------------------------------

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif have sudo; then sudo "$@"
  else die "need root to run: $* (run this script as root or install sudo)"
  fi
}

apt_updated=0
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    apt_updated=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

deb_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

setup_debian() {
  local missing=()
  for pkg in libdnnl-dev g++ make python3; do
    deb_installed "$pkg" || missing+=("$pkg")
  done
  have node || missing+=(nodejs)
  have npm || missing+=(npm)
  apt_install "${missing[@]}"

  local major
  major=$(node_major)
  if [ "$major" -lt "$MIN_NODE_MAJOR" ]; then
    log "node $(node --version 2>/dev/null || echo '(none)') is older than ${MIN_NODE_MAJOR}; installing node ${FALLBACK_NODE_VERSION} from the npm registry"
    local arch
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64) arch=arm64 ;;
      *) die "no Node.js ${MIN_NODE_MAJOR} build for $(uname -m); install Node.js >= ${MIN_NODE_MAJOR} yourself and rerun" ;;
    esac
    as_root npm install --global --no-fund --no-audit "node-linux-${arch}@${FALLBACK_NODE_VERSION}"
    hash -r
    major=$(node_major)
    [ "$major" -ge "$MIN_NODE_MAJOR" ] || die "node on PATH is still $(node --version); put $(npm prefix --global)/bin first on PATH and rerun"
  fi

  local onednn
  onednn=$(onednn_problem)
  if [ -n "$onednn" ]; then
    printf 'setup: error: this system lacks %s\n' "$onednn" >&2
    print_manual_steps
    exit 1
  fi
}

# ---- other systems ---------------------------------------------------------------------------

# The header the compiler will see first (DNNLROOT and CPATH come before the system dirs).
find_onednn_header() {
  local dir
  for dir in ${DNNLROOT:+"$DNNLROOT/include"} ${CPATH:+${CPATH//:/ }} /usr/local/include /usr/include /opt/homebrew/include; do
    if [ -f "$dir/oneapi/dnnl/dnnl_version.h" ]; then echo "$dir/oneapi/dnnl/dnnl_version.h"; return; fi
  done
}

# Empty when a usable oneDNN is found, else what is wrong with it.
onednn_problem() {
  local header major
  header=$(find_onednn_header)
  if [ -z "$header" ]; then echo "oneDNN 2.x headers (oneapi/dnnl/dnnl_version.h)"; return; fi
  major=$(sed -n 's/^#define DNNL_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")
  [ "$major" = 2 ] || echo "oneDNN 2.x (found version ${major:-unknown} at ${header}; tsvision uses the 2.x API, which 3.x changed)"
}

print_manual_steps() {
  cat >&2 <<EOF

tsvision needs, before 'npm ci':
  - Node.js >= ${MIN_NODE_MAJOR} with its headers (the official tarball has them in <prefix>/include/node)
  - a C++17 compiler with OpenMP (g++ or clang++ with libomp), make, python3 (for node-gyp)
  - oneDNN 2.x (2.6 is tested) built with the OpenMP CPU runtime. From your distribution
    (Debian/Ubuntu: libdnnl-dev; Fedora: onednn-devel; Arch: onednn), or from source:
      git clone --branch v2.6.3 --depth 1 https://github.com/oneapi-src/oneDNN
      cmake -S oneDNN -B oneDNN/build -DCMAKE_BUILD_TYPE=Release -DDNNL_CPU_RUNTIME=OMP \\
            -DDNNL_BUILD_TESTS=OFF -DDNNL_BUILD_EXAMPLES=OFF
      cmake --build oneDNN/build -j && cmake --install oneDNN/build   # to /usr/local
    For another prefix, set DNNLROOT=<prefix> before running this script, and add <prefix>/lib to
    LD_LIBRARY_PATH when running tsvision.
EOF
}

check_other() {
  local problems=()
  [ "$(node_major)" -ge "$MIN_NODE_MAJOR" ] || problems+=("Node.js >= ${MIN_NODE_MAJOR} (found: $(node --version 2>/dev/null || echo none))")
  have npm || problems+=("npm")
  have make || problems+=("make")
  have python3 || problems+=("python3")
  have "${CXX:-g++}" || have clang++ || problems+=("a C++17 compiler (g++)")
  local onednn
  onednn=$(onednn_problem)
  [ -z "$onednn" ] || problems+=("$onednn")
  if [ "${#problems[@]}" -gt 0 ]; then
    printf 'setup: error: no apt-get on this system and these are missing:\n' >&2
    printf '  - %s\n' "${problems[@]}" >&2
    print_manual_steps
    exit 1
  fi
}

# ---- main ------------------------------------------------------------------------------------

if have apt-get && have dpkg-query; then
  setup_debian
else
  check_other
fi

if [ -n "${DNNLROOT:-}" ]; then
  export CPATH="$DNNLROOT/include${CPATH:+:$CPATH}"
  export LIBRARY_PATH="$DNNLROOT/lib:$DNNLROOT/lib64${LIBRARY_PATH:+:$LIBRARY_PATH}"
  export LD_LIBRARY_PATH="$DNNLROOT/lib:$DNNLROOT/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

# node-gyp would otherwise download Node's headers from nodejs.org; point it at the running node's own.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -f "$node_prefix/include/node/node_api.h" ]; then
  export npm_config_nodedir="$node_prefix"
elif [ -z "${npm_config_nodedir:-}" ]; then
  log "warning: no Node.js headers under $node_prefix/include/node; node-gyp will try to download them"
fi

log "node $(node --version), npm $(npm --version), nodedir ${npm_config_nodedir:-(download)}"

cd "$repo_root"
if [ -L node_modules ]; then
  # A worktree sharing another checkout's dependencies: reinstalling would wipe those. Build only.
  log "node_modules is a link to $(readlink -f node_modules); leaving it, building the addon only"
  node scripts/install-native.mjs
else
  log "npm ci (installs dependencies and builds the native addon unless it is up to date)"
  npm ci --no-fund --no-audit
fi
log "done"
