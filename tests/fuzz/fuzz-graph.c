/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz-graph.c - libFuzzer target: Graph's answers and MIME part headers through p2m-graph's pure parsers. */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2m-graph.h"
#include "p2m-rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *) data;
	g_autofree char *code = NULL;
	g_autofree char *message = NULL;
	g_autofree char *id = NULL;
	g_autofree char *ctype = NULL;
	g_autofree char *name = NULL;
	g_autofree char *boundary = NULL;
	g_autofree char *value = NULL;
	const p2m_rule *rule;
	gsize i;

	if (p2m_graph_parse_error(s, size, &code, &message)) {
		if (code == NULL && message == NULL)
			abort();
		/* what reaches a job message is one line */
		for (i = 0; code != NULL && code[i] != '\0'; i++)
			if ((guchar) code[i] < 0x20)
				abort();
		if (message != NULL && (strlen(message) > 512 || !g_utf8_validate(message, -1, NULL)))
			abort();
	}
	rule = p2m_rules_classify_graph(size > 0 ? 400 + data[0] % 200 : 0, code, message, size % 2, 0);
	if (rule == NULL || rule->source != P2M_RULE_GRAPH)
		abort();
	id = p2m_graph_parse_member(s, size, "id", 1024);
	if (id != NULL && (*id == '\0' || strlen(id) > 1024))
		abort();
	if (p2m_graph_part_attachment(s, size, &ctype, &name)) {
		if (ctype == NULL || name == NULL || strlen(name) > 255 || strchr(name, '\n') != NULL ||
		    !g_utf8_validate(name, -1, NULL))
			abort();
	} else if (ctype != NULL || name != NULL) {
		abort();
	}
	boundary = p2m_graph_boundary(s, size);
	if (boundary != NULL && (strlen(boundary) > 70 || strpbrk(boundary, "\r\n") != NULL))
		abort();
	value = g_strndup(s, MIN(size, 128));
	if (p2m_graph_parse_retry_after(value, 1000) < -1)
		abort();
	return 0;
}
