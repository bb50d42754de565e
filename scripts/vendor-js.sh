#!/usr/bin/env bash
# Vendor the front-end libraries Postino serves itself. The product runs
# offline (no CDN), so each library is fetched at a pinned version with
# `npm pack` from the npm registry this machine is configured for, and only
# its built file and licence are copied into static/vendor/.
#
# To update: change the version below, run `bash scripts/vendor-js.sh`, read
# the diff and the library's changelog, update static/vendor/README.md
# (version and checksum) and commit the result.
set -euo pipefail

CHARTJS_VERSION=4.6.1

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "chart.js@${CHARTJS_VERSION}" >/dev/null \
  && tar xzf "chart.js-${CHARTJS_VERSION}.tgz")
package="$work/package"
actual=$(node -p "require('$package/package.json').version")
if [ "$actual" != "$CHARTJS_VERSION" ]; then
  echo "expected chart.js $CHARTJS_VERSION, the registry gave $actual" >&2
  exit 1
fi

dest="$root/static/vendor/chartjs"
mkdir -p "$dest"
# The source map is not shipped, so the comment naming it goes: the manifest
# static storage rewrites that reference at collectstatic and fails when the
# .map file is missing.
sed '/^\/\/# sourceMappingURL=/d' "$package/dist/chart.umd.min.js" >"$dest/chart.umd.min.js"
cp "$package/LICENSE.md" "$dest/LICENSE.md"

echo "chart.js $CHARTJS_VERSION vendored into static/vendor/chartjs/:"
(cd "$dest" && sha256sum chart.umd.min.js LICENSE.md)
