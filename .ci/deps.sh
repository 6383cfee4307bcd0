#!/usr/bin/env bash
# Installs what gatewatch's tests need from Debian, when it is missing:
# nginx (e2e), chromium (browser tests), PostgreSQL (store tests), npm
# (fetches axe-core for the accessibility audit), caddy, haproxy, apache2
# (proxy e2e tests), podman (make image), systemd-analyze (the unit) and
# kubectl (kustomize of deploy/k8s).
# Idempotent: a machine that has them installs nothing.
set -euo pipefail

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v npm >/dev/null 2>&1 || need+=(npm)
# The browsers' own translations (locales' menu-name test, make
# browser-names) and Noto fonts for the screenshots' scripts.
for pkg in chromium-l10n firefox-esr-l10n-all fonts-noto-core fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The other proxies' e2e tests, the image build and the unit check.
command -v caddy >/dev/null 2>&1 || need+=(caddy)
[ -x /usr/sbin/haproxy ] || command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
[ -x /usr/sbin/apache2 ] || need+=(apache2)
command -v podman >/dev/null 2>&1 || need+=(podman)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing from Debian: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "need root or sudo to apt-get install ${need[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Packages must not start their services here: the tests start their own
# nginx and PostgreSQL on loopback ports.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  created_policy=1
fi
trap '[ -n "$created_policy" ] && $sudo rm -f "$policy"' EXIT
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
