#!/bin/bash
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
# turn text and images into PDF, a font for texttopdf), the local Microsoft
# 365-like SMTP server and OAuth endpoint (Python with aiosmtpd and
# cryptography), the test CA (openssl), the web UI (curl), test images
# (Pillow), PDF checks (poppler-utils), PAM tests (pam_wrapper, pamtester),
# process and socket checks (procps, iproute2), bench/ peak RSS (time),
# scripts/fuzz.sh (clang, for libFuzzer).
TEST_PKGS="cups-daemon cups-client cups-ipp-utils cups-filters fonts-dejavu-core
	python3 python3-aiosmtpd python3-cryptography python3-pil openssl curl
	poppler-utils libpam-wrapper pamtester procps iproute2 time clang"
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
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $need >/dev/null || return 1
	# cupsd is started privately by tests and the demo; the package's own
	# service is none of our business (and may not run in a container).
	return 0
}

main "$@"
