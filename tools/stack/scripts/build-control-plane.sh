#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from the Go module proxy.
# Binaries are cached outside the checkout, keyed by version, and rebuilt only when
# the version changes. The first build takes several minutes on 2 cores.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.35.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE_DIR="${KUP_CACHE_DIR:-$HOME/.cache/k8s-user-provisioner}"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

build_kubernetes() {
  local out="$CACHE_DIR/bin/kubernetes-$K8S_VERSION"
  if [[ -x "$out/kube-apiserver" && -x "$out/kube-controller-manager" ]]; then
    log "kubernetes $K8S_VERSION already built in $out"
    return
  fi
  local minor patch staging
  IFS=. read -r _ minor patch <<<"${K8S_VERSION#v}"
  staging="v0.$minor.$patch"
  local work="$CACHE_DIR/build/kubernetes-$K8S_VERSION"
  rm -rf "$work" && mkdir -p "$work" && cd "$work"
  log "kubernetes $K8S_VERSION: resolving modules (staging modules at $staging)"
  go mod init kup.local/kubernetes-build >/dev/null 2>&1
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  # Every staging module that k8s.io/kubernetes requires at v0.0.0 gets a replace line.
  awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod" | sort -u | while read -r mod; do
    go mod edit -replace "$mod=$mod@$staging"
  done
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION"
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  mkdir -p "$out.tmp"
  for cmd in kube-apiserver kube-controller-manager; do
    log "kubernetes $K8S_VERSION: building $cmd (cold cache: about 5 minutes for both)"
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "kubernetes $K8S_VERSION built in $out"
}

build_etcd() {
  local out="$CACHE_DIR/bin/etcd-$ETCD_VERSION"
  if [[ -x "$out/etcd" ]]; then
    log "etcd $ETCD_VERSION already built in $out"
    return
  fi
  local work="$CACHE_DIR/build/etcd-$ETCD_VERSION"
  rm -rf "$work" && mkdir -p "$work" && cd "$work"
  log "etcd $ETCD_VERSION: resolving modules"
  go mod init kup.local/etcd-build >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  mkdir -p "$out.tmp"
  log "etcd $ETCD_VERSION: building (cold cache: about 1 minute)"
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "etcd $ETCD_VERSION built in $out"
}

case "${1:-all}" in
  kubernetes) build_kubernetes ;;
  etcd) build_etcd ;;
  all) build_etcd; build_kubernetes ;;
  *) echo "usage: $0 [all|kubernetes|etcd]" >&2; exit 2 ;;
esac
