/* SPDX-License-Identifier: Apache-2.0 */
/* test-pace.c - per-mailbox pacing: the message log's window, the next free time, slots and budget shared by processes, and the network fault classes. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "p2m-error.h"
#include "p2m-net.h"
#include "p2m-pace.h"

#define NOW 1800000000000

static void
test_parse_window(void)
{
	static const char log[] =
		"1799999940000 1\n"      /* exactly one window old: gone */
		"1799999940001 2\n"
		"garbage\n"
		"1800000000000 3\n"
		"1800000000001 4\n"      /* the future (clock went back): gone */
		"1799999950000 5 extra\n"
		"1799999970000 6";       /* cut short, but whole */
	p2m_pace_entry e[8];
	gsize n = p2m_pace_parse(log, strlen(log), NOW, e, G_N_ELEMENTS(e));

	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpint(e[0].pid, ==, 2);
	g_assert_cmpint(e[1].pid, ==, 6);
	g_assert_cmpint(e[2].pid, ==, 3);
	/* a capacity is a capacity */
	g_assert_cmpuint(p2m_pace_parse(log, strlen(log), NOW, e, 1), ==, 1);
}

static void
test_next_slot(void)
{
	p2m_pace_entry e[30];
	gsize i;

	for (i = 0; i < 30; i++) {
		e[i].ms = NOW - 50000 + (gint64) i * 1000;
		e[i].pid = 100 + (gint64) i;
	}
	g_assert_cmpint(p2m_pace_next_slot(e, 29, 30, NOW), ==, 0);
	/* the 31st waits for the oldest to leave the window */
	g_assert_cmpint(p2m_pace_next_slot(e, 30, 30, NOW), ==, NOW + 10000);
	g_assert_cmpint(p2m_pace_next_slot(e, 30, 0, NOW), ==, 0);
	g_assert_cmpint(p2m_pace_next_slot(e, 30, 2, NOW), ==, e[28].ms + P2M_PACE_WINDOW_MS);
}

typedef struct {
	int    waits;
	gint64 until;
	gboolean busy;
} waits;

static void
on_wait(void *ctx, gboolean busy, gint64 until_ms)
{
	waits *w = ctx;

	w->waits++;
	w->busy = busy;
	w->until = until_ms;
}

static void
test_slots_and_budget(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-pace-XXXXXX", NULL);
	g_autofree char *log = NULL;
	g_autoptr(GError) err = NULL;
	waits w = { 0 };
	p2m_pace_request req = { .state_dir = dir, .mailbox = "Scanner@Contoso.com", .max_connections = 2,
	                         .max_per_minute = 3, .max_wait_s = 1, .on_wait = on_wait, .ctx = &w };
	p2m_pace *a, *b, *c;
	char *text = NULL;
	g_auto(GStrv) lines = NULL;

	g_chmod(dir, 0700);
	a = p2m_pace_acquire(&req, &err);
	g_assert_no_error(err);
	b = p2m_pace_acquire(&req, &err);
	g_assert_no_error(err);
	/* a third connection waits, then gives up: the job is retried */
	c = p2m_pace_acquire(&req, &err);
	g_assert_null(c);
	g_assert_error(err, P2M_ERROR, P2M_E_CONNECT);
	g_assert_nonnull(strstr(err->message, "max_connections"));
	g_assert_true(w.busy);
	g_clear_error(&err);
	/* a failed send gives its place back; a sent one keeps it */
	p2m_pace_done(a, FALSE);
	p2m_pace_done(b, TRUE);
	a = p2m_pace_acquire(&req, &err);
	g_assert_no_error(err);
	p2m_pace_done(a, TRUE);
	a = p2m_pace_acquire(&req, &err);
	g_assert_no_error(err);
	p2m_pace_done(a, TRUE);
	/* three sent in the minute: the fourth would wait ~60 s, more than max_wait_s */
	w.waits = 0;
	a = p2m_pace_acquire(&req, &err);
	g_assert_null(a);
	g_assert_error(err, P2M_ERROR, P2M_E_CONNECT);
	g_assert_nonnull(strstr(err->message, "max_messages_per_minute"));
	log = g_build_filename(dir, "pace", "scanner@contoso.com.log", NULL);
	g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 4);  /* 3 lines + "" */
	g_free(text);
	g_clear_error(&err);
	/* a budget set to 0 is no pacing */
	req.max_per_minute = 0;
	a = p2m_pace_acquire(&req, &err);
	g_assert_no_error(err);
	p2m_pace_done(a, TRUE);
}

/* A backend killed while holding a slot frees it: the flock dies with it. */
static void
test_crash_frees_slot(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-pace-XXXXXX", NULL);
	g_autoptr(GError) err = NULL;
	p2m_pace_request req = { .state_dir = dir, .mailbox = "m@contoso.com", .max_connections = 1,
	                         .max_per_minute = 30, .max_wait_s = 5 };
	int fds[2], status;
	char c;
	pid_t pid;
	p2m_pace *p;

	g_chmod(dir, 0700);
	g_assert_cmpint(pipe(fds), ==, 0);
	if ((pid = fork()) == 0) {
		p = p2m_pace_acquire(&req, NULL);
		if (write(fds[1], p != NULL ? "y" : "n", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	g_assert_cmpint(read(fds[0], &c, 1), ==, 1);
	g_assert_cmpint(c, ==, 'y');
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	p = p2m_pace_acquire(&req, &err);
	g_assert_no_error(err);
	p2m_pace_done(p, TRUE);
}

static void
test_cancel(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-pace-XXXXXX", NULL);
	g_autoptr(GError) err = NULL;
	volatile sig_atomic_t cancel = 1;
	p2m_pace_request req = { .state_dir = dir, .mailbox = "m@contoso.com", .max_connections = 1,
	                         .max_per_minute = 30, .max_wait_s = 60, .cancel = &cancel };
	p2m_pace *a;

	g_chmod(dir, 0700);
	a = p2m_pace_acquire(&req, &err);   /* a free slot: no wait, no cancel */
	g_assert_no_error(err);
	g_assert_null(p2m_pace_acquire(&req, &err));
	g_assert_error(err, P2M_ERROR, P2M_E_CANCELED);
	p2m_pace_done(a, FALSE);
}

static void
test_net_faults(void)
{
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_OK, TRUE), ==, P2M_NET_OK);
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_UNREACHABLE, FALSE), ==, P2M_NET_UNREACHABLE);
	/* accepted, then silent or closed: a firewall or proxy, not the server */
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_STALLED, FALSE), ==, P2M_NET_UNREACHABLE);
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_LOST, FALSE), ==, P2M_NET_UNREACHABLE);
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_STALLED, TRUE), ==, P2M_NET_STALLED);
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_LOST, TRUE), ==, P2M_NET_LOST);
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_TLS_VERIFY, TRUE), ==, P2M_NET_OTHER);
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_TLS, FALSE), ==, P2M_NET_OTHER);
	g_assert_cmpint(p2m_net_fault_of(P2M_WIRE_PROTOCOL, TRUE), ==, P2M_NET_OTHER);
	g_assert_cmpstr(p2m_net_fault_name(P2M_NET_STALLED), ==, "stalled");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pace/parse-window", test_parse_window);
	g_test_add_func("/pace/next-slot", test_next_slot);
	g_test_add_func("/pace/slots-and-budget", test_slots_and_budget);
	g_test_add_func("/pace/crash-frees-slot", test_crash_frees_slot);
	g_test_add_func("/pace/cancel", test_cancel);
	g_test_add_func("/pace/net-faults", test_net_faults);
	return g_test_run();
}
