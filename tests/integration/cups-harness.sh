#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cups-harness.sh - the private cupsd of tests/cups-lib.sh and the print2mail
# PPD's filter routing: PDF, text and JPEG jobs reach the print2mail filter
# slot as PDF (not rasterized), with nothing pinned on the job message.
# The filter and backend here are capture stand-ins written by this test, so
# this proves the harness and the PPD independently of the real programs.
set -u
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/cups-lib.sh"

# capture_programs: a filter that records how cupsd ran it and passes the
# document on, and a 0700 backend that records its uid and input.
capture_programs() {
	cat >"$T/p2m-capture" <<'EOF'
#!/bin/sh
# Test filter: records CONTENT_TYPE/FINAL_CONTENT_TYPE, passes the data on.
out=$(dirname "$PPD")/../../out
echo "CONTENT_TYPE=$CONTENT_TYPE FINAL_CONTENT_TYPE=$FINAL_CONTENT_TYPE uid=$(id -u)" >"$out/filter-$1.env"
echo "INFO: capture filter ran" >&2
if [ $# -eq 6 ]; then exec cat "$6"; else exec cat; fi
EOF
	cat >"$T/p2mcap" <<'EOF'
#!/bin/sh
# Test backend: discovery line, then the document into out/job-N.data.
[ $# -eq 0 ] && { echo 'direct p2mcap://x "print2mail capture" "capture backend"'; exit 0; }
out=$(dirname "$PPD")/../../out
echo "uid=$(id -u) FINAL_CONTENT_TYPE=${FINAL_CONTENT_TYPE-}" >"$out/job-$1.env"
if [ $# -eq 6 ]; then cat "$6"; else cat; fi >"$out/job-$1.data"
echo "INFO: captured" >&2
exit 0
EOF
	cups_install filter "$T/p2m-capture" p2m-capture 0755
	cups_install backend "$T/p2mcap" p2mcap 0700
	sed 's/ print2mail-compose"$/ p2m-capture"/' "$top_builddir/conf/print2mail.ppd" >"$T/capture.ppd"
}

# make_jpeg FILE: a small photo-like JPEG (Pillow), or nothing.
make_jpeg() {
	"$PYTHON3" - "$1" <<'PY' 2>/dev/null
import sys
from PIL import Image
im = Image.new("RGB", (320, 200))
im.putdata([(x % 256, y * 255 // 200, (x * y) % 256) for y in range(200) for x in range(320)])
im.save(sys.argv[1], "JPEG", quality=85)
PY
}

# route QUEUE FILE LABEL: print FILE, check it reached the backend as PDF.
route() {
	local q="$1" f="$2" what="$3" st
	cups_submit "$q" "$f" -t "$what"
	st=$(wait_job_state "$JOB" completed aborted processing-stopped canceled)
	is "$st" completed "$what job completes"
	# CONTENT_TYPE is the job's original type; the chain is in the log.
	like "$(cups_job_log "$JOB")" \
		"p2m-capture \\(application/vnd.cups-pdf to printer/$q/message/rfc822" \
		"$what reaches the print2mail filter slot as vnd.cups-pdf"
	like "$(cat "$CUPS_BASE/out/filter-$JOB.env" 2>/dev/null)" \
		"FINAL_CONTENT_TYPE=message/rfc822 uid=$(id -u lp)\$" "$what: the filter runs as lp"
	is "$(head -c 5 "$CUPS_BASE/out/job-$JOB.data" 2>/dev/null)" "%PDF-" "$what arrives as a PDF"
	unlike "$(cups_job_log "$JOB" | grep -E 'Started filter' )" 'gstoraster|rastertopdf' \
		"$what is not rasterized on the way"
	is "$(job_attr "$JOB" job-printer-state-message)" "" "$what leaves no job message"
}

main() {
	cups_require
	p2m_setup
	cups_setup
	cups_install_print2mail
	capture_programs
	cups_start

	is "$(stat -c '%U %a' "$CUPS_BASE/bin/backend/print2mail")" "root 700" \
		"backend installed root-owned 0700"
	like "$(lpinfo -m 2>/dev/null)" '^print2mail/print2mail\.ppd print2mail e-mail' \
		"lpinfo -m lists the print2mail model"
	like "$(lpinfo -v 2>/dev/null)" '^direct p2mcap://x' "lpinfo -v runs backends for discovery"

	lpadmin -p cap -E -v p2mcap://x -P "$T/capture.ppd" 2>/dev/null
	is "$(printer_attr cap printer-state)" idle "queue with the print2mail PPD is idle"
	is "$(printer_attr cap printer-make-and-model)" \
		"print2mail e-mail through Microsoft 365 (PDF attachment)" "make-and-model from the PPD"

	make_pdf "$T/doc.pdf"
	printf 'Hello from print2mail.\nSecond line.\n' >"$T/doc.txt"
	route cap "$T/doc.pdf" PDF
	route cap "$T/doc.txt" text
	if make_jpeg "$T/photo.jpg"; then
		route cap "$T/photo.jpg" JPEG
	else
		for _ in 1 2 3 4 5 6; do ok 0 "# SKIP JPEG: python3-pil missing (scripts/deps.sh)"; done
	fi
	is "$(head -1 "$CUPS_BASE/out/job-1.env")" "uid=0 FINAL_CONTENT_TYPE=message/rfc822" \
		"a 0700 backend runs as root and sees FINAL_CONTENT_TYPE"
	like "$(web_text /printers/)" 'cap.*Idle' "web UI lists the queue"
	if [ -f "$top_builddir/conf/print2mail.html" ]; then
		like "$(web_text /help/print2mail.html)" 'print2mail: Microsoft 365 refusals' \
			"cupsd serves the help page at /help/print2mail.html"
		like "$(curl -fsS "http://127.0.0.1:$CUPS_PORT/help/?QUERY=refusals")" \
			'print2mail\.html' "the CUPS help search indexes the page"
		like "$(grep -c '^\*[a-z_A-Z]*\.*cupsIPPReason com\.print2mail-' "$top_builddir/conf/print2mail.ppd")" \
			'^[1-9][0-9]+$' "the PPD carries cupsIPPReason entries for the rules"
	fi
	done_testing
}

main "$@"
