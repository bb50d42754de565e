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

# --- Editor bundles (campaign editor) -----------------------------------------
# CodeMirror 6 and TipTap ship only ES modules, so each is bundled once with
# esbuild into one self-contained file defining a global. Versions are pinned
# in scripts/vendor/package.json and, with every transitive dependency, in its
# package-lock.json; `npm ci` installs exactly those in a scratch copy.
src="$root/scripts/vendor"
build="$work/editors"
mkdir -p "$build"
cp "$src/package.json" "$src/package-lock.json" "$src/"*.entry.js "$build/"
(cd "$build" && npm ci --silent --no-audit --no-fund >/dev/null)

bundle() { # bundle <name> <GlobalName>
  local name=$1 global=$2 out="$root/static/vendor/$1"
  mkdir -p "$out"
  (cd "$build" && ./node_modules/.bin/esbuild "$name.entry.js" --bundle --minify \
    --format=iife --global-name="$global" --target=es2020 --legal-comments=none \
    --metafile="$work/$name.meta.json" --outfile="$out/$name.min.js" --log-level=warning)
  # One file with the licence of every package that went into the bundle.
  (cd "$build" && node -e '
    const fs = require("fs"), path = require("path");
    const meta = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const dirs = new Set();
    for (const input of Object.keys(meta.inputs)) {
      const m = input.match(/^(node_modules\/(?:@[^/]+\/)?[^/]+)/);
      if (m) dirs.add(m[1]);
    }
    const parts = [];
    for (const dir of [...dirs].sort()) {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
      const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
      const text = file ? fs.readFileSync(path.join(dir, file), "utf8").trim()
                        : "(no licence file shipped; package.json says " + pkg.license + ")";
      parts.push("## " + pkg.name + " " + pkg.version + " (" + pkg.license + ")\n\n" + text);
    }
    process.stdout.write(parts.join("\n\n") + "\n");
  ' "$work/$name.meta.json") >"$out/LICENSES.md"
  echo "$name bundled into static/vendor/$name/:"
  (cd "$out" && sha256sum "$name.min.js" LICENSES.md)
}
bundle codemirror PostinoCodeMirror
bundle tiptap PostinoTiptap
bundle turndown PostinoTurndown
