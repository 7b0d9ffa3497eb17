/* SPDX-License-Identifier: Apache-2.0 */
/* compose-rss.c - by hand: peak RSS while composing a document of any size, to show memory does not grow with it. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "p2m-compose.h"

/* Usage: compose-rss DOCUMENT [BUFSIZE]; the message goes to /dev/null. */
int
main(int argc, char **argv)
{
	static const char *const to[] = { "bob@contoso.com", NULL };
	p2m_compose_info info = {
		.from = "scanner@contoso.com", .to = to, .subject = "RSS check",
		.body_text = "Scanned document attached.\n",
	};
	g_autoptr(p2m_composer) c = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *buf = NULL;
	gsize bufsize = argc > 2 ? (gsize) strtoul(argv[2], NULL, 10) : 65536;
	guint64 total = 0;
	struct rusage ru;
	gssize n;
	int fd, null;

	if (argc < 2 || bufsize < 80) {
		fprintf(stderr, "usage: %s DOCUMENT [BUFSIZE >= 80]\n", argv[0]);
		return 2;
	}
	if ((fd = open(argv[1], O_RDONLY)) < 0 || (null = open("/dev/null", O_WRONLY)) < 0) {
		perror(argv[1]);
		return 1;
	}
	buf = g_malloc(bufsize);
	if ((c = p2m_compose_new(&info, fd, &err)) == NULL) {
		fprintf(stderr, "%s\n", err->message);
		return 1;
	}
	while ((n = p2m_compose_read(c, buf, bufsize, &err)) > 0) {
		if (write(null, buf, (size_t) n) != n)
			return 1;
		total += (guint64) n;
	}
	if (n < 0) {
		fprintf(stderr, "%s\n", err->message);
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("document %" G_GUINT64_FORMAT " bytes, message %" G_GUINT64_FORMAT " bytes, peak RSS %ld KiB\n",
	       p2m_compose_document_bytes(c), total, ru.ru_maxrss);
	close(fd);
	close(null);
	return 0;
}
