/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-addr.c - e-mail addresses: strict validation, recipient lists, allowed_recipients matching. */
#include "config.h"

#include <string.h>

#include "p2m-addr.h"
#include "p2m-error.h"

/* The longest list p2m_addr_parse_list looks at: 100 full addresses and
 * their separators.  Anything longer cannot be a list we would accept. */
#define ADDR_LIST_MAX ((P2M_ADDR_MAX + 1) * P2M_ADDR_MAX_RECIPIENTS)

static gboolean
is_atext(unsigned char ch)
{
	return g_ascii_isalnum(ch) || (ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

static gboolean
is_ldh(unsigned char ch)
{
	return g_ascii_isalnum(ch) || ch == '-';
}

/* Why LOCAL (LEN bytes) is not a dot-atom, or NULL when it is. */
static const char *
local_problem(const char *local, gsize len)
{
	gsize i;

	if (len == 0)
		return "the part before '@' is empty";
	if (len > P2M_ADDR_LOCAL_MAX)
		return "the part before '@' is longer than 64 characters";
	if (local[0] == '.' || local[len - 1] == '.')
		return "the part before '@' starts or ends with a dot";
	for (i = 0; i < len; i++) {
		if (local[i] == '.') {
			if (local[i + 1] == '.')
				return "the part before '@' has two dots in a row";
		} else if (!is_atext((unsigned char) local[i])) {
			return "the part before '@' has a character that is not allowed";
		}
	}
	return NULL;
}

/* Why DOMAIN (NUL-terminated) is not a dotted LDH host name, or NULL. */
static const char *
domain_problem(const char *domain)
{
	const char *p = domain;
	gsize label = 0;
	guint labels = 0;

	if (*domain == '\0')
		return "the domain is missing";
	for (;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0)
				return "the domain has an empty label";
			if (p[-1] == '-')
				return "a domain label ends with '-'";
			labels++;
			label = 0;
			if (*p == '\0')
				break;
			continue;
		}
		if (!is_ldh((unsigned char) *p))
			return "the domain has a character that is not allowed";
		if (label == 0 && *p == '-')
			return "a domain label starts with '-'";
		if (++label > 63)
			return "a domain label is longer than 63 characters";
	}
	if (labels < 2)
		return "the domain has no dot";
	return NULL;
}

/* Why ADDR is not a valid addr-spec, or NULL when it is. */
static const char *
addr_problem(const char *addr)
{
	const char *at;
	const char *why;

	if (addr == NULL || *addr == '\0')
		return "it is empty";
	if (strlen(addr) > P2M_ADDR_MAX)
		return "it is longer than 254 characters";
	if ((at = strchr(addr, '@')) == NULL)
		return "it has no '@'";
	if (strchr(at + 1, '@') != NULL)
		return "it has more than one '@'";
	if ((why = local_problem(addr, (gsize) (at - addr))) != NULL)
		return why;
	return domain_problem(at + 1);
}

gboolean
p2m_addr_is_valid(const char *addr)
{
	return addr_problem(addr) == NULL;
}

/* ADDR made printable for a message: controls and non-ASCII escaped, cut. */
static char *
addr_for_message(const char *addr, gsize len)
{
	g_autofree char *cut = g_strndup(addr, MIN(len, 120));
	g_autofree char *esc = g_strescape(cut, NULL);

	return g_strdup_printf("%s%s", esc, len > 120 ? "..." : "");
}

gboolean
p2m_addr_check(const char *addr, GError **error)
{
	const char *why = addr_problem(addr);
	g_autofree char *shown = NULL;

	if (why == NULL)
		return TRUE;
	shown = addr_for_message(addr ? addr : "", addr ? strlen(addr) : 0);
	g_set_error(error, P2M_ERROR, P2M_E_ADDRESS,
	            "'%s' is not a valid e-mail address: %s", shown, why);
	return FALSE;
}

const char *
p2m_addr_domain(const char *addr)
{
	if (!p2m_addr_is_valid(addr))
		return NULL;
	return strchr(addr, '@') + 1;
}

gboolean
p2m_addr_domain_is_valid(const char *domain)
{
	return domain != NULL && strlen(domain) <= P2M_ADDR_MAX && domain_problem(domain) == NULL;
}

gboolean
p2m_addr_split(const char *addr, char **local, char **domain)
{
	const char *dom = p2m_addr_domain(addr);

	if (local != NULL)
		*local = dom ? g_strndup(addr, (gsize) (dom - 1 - addr)) : NULL;
	if (domain != NULL)
		*domain = dom ? g_strdup(dom) : NULL;
	return dom != NULL;
}

char *
p2m_addr_normalize(const char *addr)
{
	const char *dom = p2m_addr_domain(addr);
	char *copy;

	if (dom == NULL)
		return NULL;
	copy = g_strdup(addr);
	for (char *p = copy + (dom - addr); *p; p++)
		*p = g_ascii_tolower(*p);
	return copy;
}

static gboolean
is_list_separator(char ch)
{
	return ch == ',' || ch == ';' || ch == ' ' || ch == '\t';
}

/* Adds ENTRY (LEN bytes) to OUT unless already there; FALSE + error when
 * it is invalid or the list is full. */
static gboolean
list_add(GPtrArray *out, const char *entry, gsize len, GError **error)
{
	g_autofree char *copy = g_strndup(entry, len);
	char *norm;
	guint i;

	if (len != strlen(copy) || !p2m_addr_check(copy, error))
		return FALSE;
	norm = p2m_addr_normalize(copy);
	for (i = 0; i < out->len; i++) {
		if (g_ascii_strcasecmp(g_ptr_array_index(out, i), norm) == 0) {
			g_free(norm);
			return TRUE;
		}
	}
	if (out->len >= P2M_ADDR_MAX_RECIPIENTS) {
		g_free(norm);
		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS,
		            "too many recipients: at most %d are allowed", P2M_ADDR_MAX_RECIPIENTS);
		return FALSE;
	}
	g_ptr_array_add(out, norm);
	return TRUE;
}

char **
p2m_addr_parse_list(const char *list, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	const char *p = list ? list : "";
	const char *start;

	if (strlen(p) > ADDR_LIST_MAX) {
		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS,
		            "the recipient list is too long (more than %d characters)", ADDR_LIST_MAX);
		return NULL;
	}
	while (*p != '\0') {
		while (is_list_separator(*p))
			p++;
		if (*p == '\0')
			break;
		start = p;
		while (*p != '\0' && !is_list_separator(*p))
			p++;
		if (!list_add(out, start, (gsize) (p - start), error))
			return NULL;
	}
	g_ptr_array_add(out, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* Does DOMAIN (of a valid address) match domain pattern PAT ("x.com" or "*.x.com")? */
static gboolean
domain_matches(const char *domain, const char *pat, gsize patlen)
{
	gsize dlen = strlen(domain);

	if (patlen >= 2 && pat[0] == '*' && pat[1] == '.') {
		/* "*.x.com": strictly below x.com, so keep the dot in the suffix */
		pat++;
		patlen--;
		return dlen > patlen && g_ascii_strncasecmp(domain + dlen - patlen, pat, patlen) == 0;
	}
	return dlen == patlen && g_ascii_strncasecmp(domain, pat, patlen) == 0;
}

/* Trimmed view of a pattern: leading/trailing blanks are config noise. */
static const char *
pattern_trim(const char *pattern, gsize *len)
{
	const char *end;

	while (g_ascii_isspace(*pattern))
		pattern++;
	end = pattern + strlen(pattern);
	while (end > pattern && g_ascii_isspace(end[-1]))
		end--;
	*len = (gsize) (end - pattern);
	return pattern;
}

static gboolean
pattern_matches(const char *addr, const char *domain, const char *pattern)
{
	gsize len;
	const char *pat = pattern_trim(pattern, &len);

	if (len == 1 && pat[0] == '*')
		return TRUE;
	if (len >= 2 && pat[0] == '*' && pat[1] == '@')
		return domain_matches(domain, pat + 2, len - 2);
	if (len >= 1 && pat[0] == '@')
		return domain_matches(domain, pat + 1, len - 1);
	if (memchr(pat, '@', len) != NULL)
		return strlen(addr) == len && g_ascii_strncasecmp(addr, pat, len) == 0;
	return len > 0 && domain_matches(domain, pat, len);
}

gboolean
p2m_addr_allowed(const char *addr, const char *const *patterns, const char *sender_domain)
{
	const char *domain = p2m_addr_domain(addr);
	gsize i;

	if (domain == NULL)
		return FALSE;
	if (patterns == NULL || patterns[0] == NULL) {
		if (sender_domain == NULL || *sender_domain == '\0')
			return FALSE;
		return domain_matches(domain, sender_domain, strlen(sender_domain));
	}
	for (i = 0; patterns[i] != NULL; i++)
		if (pattern_matches(addr, domain, patterns[i]))
			return TRUE;
	return FALSE;
}

const char *
p2m_addr_first_denied(const char *const *addrs, const char *const *patterns,
                      const char *sender_domain)
{
	gsize i;

	for (i = 0; addrs != NULL && addrs[i] != NULL; i++)
		if (!p2m_addr_allowed(addrs[i], patterns, sender_domain))
			return addrs[i];
	return NULL;
}

gboolean
p2m_addr_pattern_is_valid(const char *pattern)
{
	gsize len;
	const char *pat;
	g_autofree char *dom = NULL;

	if (pattern == NULL)
		return FALSE;
	pat = pattern_trim(pattern, &len);
	if (len == 1 && pat[0] == '*')
		return TRUE;
	if (len >= 2 && pat[0] == '*' && pat[1] == '@') {
		pat += 2;
		len -= 2;
	} else if (len >= 1 && pat[0] == '@') {
		pat++;
		len--;
	} else if (memchr(pat, '@', len) != NULL) {
		g_autofree char *a = g_strndup(pat, len);
		return p2m_addr_is_valid(a);
	}
	if (len >= 2 && pat[0] == '*' && pat[1] == '.') {
		pat += 2;
		len -= 2;
	}
	dom = g_strndup(pat, len);
	return domain_problem(dom) == NULL;
}
