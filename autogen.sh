#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# autogen.sh - regenerate the autotools build system from a git checkout.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
# automake does not copy the TAP driver by itself; Makefile.am names it.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
autoreconf --force --install --warnings=all
