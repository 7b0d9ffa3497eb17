#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deps.sh - install the Debian 12 packages print2mail's build, tests, demo and
# screenshot need (apt-get, no recommends).  Idempotent and quiet when all are
# present; run as root.  CI, scripts/test.sh and scripts/demo.sh call it.
#
#   scripts/deps.sh               # build + tests + demo
#   scripts/deps.sh --screenshot  # also chromium, for scripts/screenshot.sh
set -u

# Building: autotools, compiler, gettext (msgfmt), the libraries configure checks.
BUILD_PKGS="build-essential gcc make autoconf automake libtool pkgconf gettext
	libcups2-dev libcurl4-openssl-dev libssl-dev libglib2.0-dev libjson-glib-dev
	libpam0g-dev"
# Tests and demo: the private cupsd (daemon, clients, ipptool, the filters that
# turn text and images into PDF, a font for texttopdf; cups-server-common for
# the web UI's pages, templates and help, cups for cups-deviced and
# cups-driverd, without which `lpinfo -v` / `lpinfo -m` fail), the local Microsoft
# 365-like SMTP server and OAuth endpoint (Python with aiosmtpd and
# cryptography), the test CA (openssl), the web UI (curl), test images
# (Pillow), PDF checks (poppler-utils), PAM tests (pam_wrapper, pamtester),
# process and socket checks (procps, iproute2), bench/ peak RSS (time), the
# manual pages' check (man-db: man --warnings), who connects as which uid
# (strace).
TEST_PKGS="cups cups-daemon cups-client cups-server-common cups-ipp-utils cups-filters fonts-dejavu-core
	python3 python3-aiosmtpd python3-cryptography python3-pil openssl curl
	poppler-utils libpam-wrapper pamtester procps iproute2 time man-db strace"
# Only for scripts/screenshot.sh: a headless browser.
SCREENSHOT_PKGS="chromium"

# missing PKG...: the packages dpkg does not list as installed.
missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			printf '%s\n' "$p"
	done
}

main() {
	local want need
	want="$BUILD_PKGS $TEST_PKGS"
	[ "${1:-}" = --screenshot ] && want="$want $SCREENSHOT_PKGS"
	# shellcheck disable=SC2086
	need=$(missing $want)
	[ -z "$need" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "deps.sh: missing packages (run as root to install):" $need >&2
		return 1
	fi
	echo "deps.sh: installing" $need
	export DEBIAN_FRONTEND=noninteractive
	# A fresh machine has no package lists yet; update once, then install.
	apt-get update -qq >/dev/null || return 1
	# cupsd is started privately by tests and the demo; the package's own
	# service is none of our business.  Without systemd (a container, a
	# chroot) the package would start a cupsd that nothing supervises or
	# stops, so forbid service starts for this install, the Debian way.
	local policy=/usr/sbin/policy-rc.d added="" rc=0
	if [ ! -d /run/systemd/system ] && [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# deps.sh: no service starts while it installs\nexit 101\n' >"$policy" &&
			chmod 0755 "$policy" && added=1
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need >/dev/null || rc=1
	[ -n "$added" ] && rm -f "$policy"
	return $rc
}

main "$@"
