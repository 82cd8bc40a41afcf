# SPDX-License-Identifier: GPL-2.0
#
# tools/lib/kcache.sh: what the builds of kernels cached outside the clone
# share (tools/debug-kernel/build, guest-port/uml/build).  Sourced, not run.
#
#   kcache_base NAME             print the cache folder of NAME: under
#                                $UNPRIV_CACHE_DIR, else $XDG_CACHE_HOME/unpriv,
#                                else ~/.cache/unpriv, else build/ of the clone
#   kcache_unpack TARBALL BASE   unpack Debian's linux-source tarball once per
#                                package version into BASE/src-VERSION/ (the
#                                package's other versions are removed) and
#                                print the source folder
#   kcache_lock BASE             hold BASE/.lock for the rest of the script,
#                                waiting for another build that holds it
#   kcache_check_config FRAGMENT CONFIG
#                                every option FRAGMENT sets or unsets is so
#                                in the .config CONFIG; says which is not
#                                and returns 1 otherwise
#
# The caller defines say() (progress to stderr) and top (the clone).

kcache_base() {
	local cache=${UNPRIV_CACHE_DIR:-${XDG_CACHE_HOME:+$XDG_CACHE_HOME/unpriv}}
	[[ -n "$cache" || -z "${HOME:-}" ]] || cache="$HOME/.cache/unpriv"
	echo "${cache:-$top/build}/$1"
}

kcache_unpack() {
	local tarball=$1 base=$2 pkg pkgver dir src
	pkg=$(basename "$tarball" .tar.xz)
	pkgver=$(dpkg-query -W -f='${Version}' "$pkg")
	dir="$base/src-$pkgver"
	src="$dir/$pkg"
	if [[ ! -f "$src/.unpriv-unpacked" ]]; then
		say "unpacking $tarball (version $pkgver)"
		rm -rf "$dir"
		mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir"
		touch "$src/.unpriv-unpacked"
		# This package's sources of other versions are stale.
		local d
		for d in "$base"/src-*; do
			[[ "$d" == "$dir" || ! -d "$d/$pkg" ]] || rm -rf "$d"
		done
	fi
	echo "$src"
}

kcache_lock() {
	exec 9>"$1/.lock"
	if ! flock -n 9; then
		say "waiting for another build to finish"
		flock 9
	fi
}

kcache_check_config() {
	local fragment=$1 config=$2 line name bad=0
	while IFS= read -r line; do
		if [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			name=${BASH_REMATCH[1]}
			grep -q "^$name=" "$config" || continue
		elif [[ "$line" =~ ^CONFIG_ ]]; then
			grep -qxF "$line" "$config" && continue
			name=${line%%=*}
		else
			continue
		fi
		say "$(basename "$fragment") asks for '$line'; the configuration has" \
			"'$(grep -E "^(# )?${name}[= ]" "$config" || echo "nothing")'"
		bad=1
	done <"$fragment"
	return $bad
}
