/* SPDX-License-Identifier: Apache-2.0 */
/* replay-main.c - runs a fuzz target over its saved corpus in make check, printing TAP. */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads one corpus file whole; corpus files are small by construction. */
static int
replay_file(const char *path)
{
	FILE *fp = NULL;
	uint8_t *buf = NULL;
	struct stat st;
	int r = -1;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20))
		goto out;
	if ((fp = fopen(path, "rb")) == NULL)
		goto out;
	/* +1 so an empty file still gets a valid pointer */
	if ((buf = malloc((size_t) st.st_size + 1)) == NULL)
		goto out;
	if (fread(buf, 1, (size_t) st.st_size, fp) != (size_t) st.st_size)
		goto out;
	LLVMFuzzerTestOneInput(buf, (size_t) st.st_size);
	r = 0;
out:
	free(buf);
	if (fp != NULL)
		fclose(fp);
	return r;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int
main(int argc, char **argv)
{
	struct dirent **names = NULL;
	int i, n, failed = 0, count = 0;
	const char *dir = NULL, *base, *top;
	char path[4096], defdir[4096];

	/* "replay-NAME --tap" (as make check runs it) replays
	 * $top_srcdir/tests/fuzz/corpus/NAME; an explicit directory wins. */
	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "--", 2) != 0)
			dir = argv[i];
	if (dir == NULL) {
		base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
		if (strncmp(base, "lt-", 3) == 0)
			base += 3;
		if (strncmp(base, "replay-", 7) == 0)
			base += 7;
		top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
		if (snprintf(defdir, sizeof(defdir), "%s/tests/fuzz/corpus/%s", top, base) >= (int) sizeof(defdir))
			return 2;
		dir = defdir;
	}
	if ((n = scandir(dir, &names, NULL, by_name)) < 0) {
		printf("1..1\nnot ok 1 - corpus directory %s unreadable\n", dir);
		return 1;
	}
	for (i = 0; i < n; i++)
		if (names[i]->d_name[0] != '.')
			count++;
	printf("1..%d\n", count > 0 ? count : 1);
	if (count == 0)
		printf("not ok 1 - corpus %s is empty\n", dir);
	count = 0;
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			/* A crash aborts the whole program, which the TAP driver reports. */
			if (snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) < (int) sizeof(path) &&
			    replay_file(path) == 0) {
				printf("ok %d - %s\n", ++count, names[i]->d_name);
			} else {
				printf("not ok %d - %s unreadable\n", ++count, names[i]->d_name);
				failed = 1;
			}
		}
		free(names[i]);
	}
	free(names);
	return failed || count == 0;
}
